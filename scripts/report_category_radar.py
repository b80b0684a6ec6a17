from polyinstruct import report_figures
from polyinstruct.snakemake_job import job

with job(snakemake):
    report_figures.write_radar(list(snakemake.input.summaries), snakemake.output.figure, snakemake.params.title)
