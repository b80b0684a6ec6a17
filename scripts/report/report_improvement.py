from polyinstruct.report import figures
from polyinstruct.workflow.job import job

with job(snakemake):
    figures.write_improvement_report(
        list(snakemake.input.summaries), snakemake.output.csv, snakemake.output.figure, snakemake.params.title
    )
