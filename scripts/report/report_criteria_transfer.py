from polyinstruct.report import figures
from polyinstruct.workflow.job import job

with job(snakemake):
    figures.write_criteria_transfer(
        list(snakemake.input.summaries), snakemake.output.figure, snakemake.params.title, snakemake.params.source
    )
