from polyinstruct import report
from polyinstruct.snakemake_job import job

with job(snakemake):
    out = snakemake.output
    report.write_agreement(list(snakemake.input.reports), out.csv, out.markdown, out.figure, snakemake.params.title,
                           snakemake.params.confidence)
