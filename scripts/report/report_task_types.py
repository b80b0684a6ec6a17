from polyinstruct.report import figures
from polyinstruct.workflow.job import job

with job(snakemake):
    figures.write_task_types(
        list(snakemake.input.summaries), snakemake.output.figure, snakemake.params.title, snakemake.params.source
    )
