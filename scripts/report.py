from polyinstruct import report
from polyinstruct.snakemake_job import job

with job(snakemake):
    report.write_report(list(snakemake.input.summaries), snakemake.output.csv, snakemake.output.markdown,
                        snakemake.output.figure, snakemake.params.title)
