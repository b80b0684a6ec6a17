from polyinstruct.report import tables
from polyinstruct.workflow.job import job

with job(snakemake):
    out = snakemake.output
    tables.write_agreement(
        list(snakemake.input.reports),
        out.csv,
        out.markdown,
        out.figure,
        snakemake.params.title,
        snakemake.params.confidence,
    )
