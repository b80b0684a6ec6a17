from polyinstruct.report import figures
from polyinstruct.workflow.job import job

with job(snakemake):
    figures.write_surface_by_lr(list(snakemake.input.selections), snakemake.output.figure, snakemake.params.title)
