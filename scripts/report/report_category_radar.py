from polyinstruct.report import figures
from polyinstruct.workflow.job import job

with job(snakemake):
    figures.write_radar(list(snakemake.input.summaries), snakemake.output.figure, snakemake.params.title)
