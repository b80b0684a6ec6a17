from polyinstruct.report import tables
from polyinstruct.workflow.job import job

with job(snakemake):
    out = snakemake.output
    tables.write_surface(
        list(snakemake.input.surface), list(snakemake.input.summaries), out.csv, out.markdown, snakemake.params.title
    )
