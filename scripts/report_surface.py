from polyinstruct import report
from polyinstruct.snakemake_job import job

with job(snakemake):
    out = snakemake.output
    report.write_surface(list(snakemake.input.surface), list(snakemake.input.summaries), out.csv, out.markdown,
                         snakemake.params.title)
