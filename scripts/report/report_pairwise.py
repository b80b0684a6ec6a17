from polyinstruct.report import tables
from polyinstruct.workflow.job import job

with job(snakemake):
    out = snakemake.output
    tables.write_pairwise(list(snakemake.input.summaries), out.csv, out.markdown, out.figure, snakemake.params.title)
