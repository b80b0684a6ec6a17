from polyinstruct import report
from polyinstruct.snakemake_job import job

with job(snakemake):
    out = snakemake.output
    report.write_pairwise(list(snakemake.input.summaries), out.csv, out.markdown, out.figure, snakemake.params.title)
