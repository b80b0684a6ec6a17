from polyinstruct import report_figures
from polyinstruct.snakemake_job import job

with job(snakemake):
    report_figures.write_size_figure(list(snakemake.input.summaries), dict(snakemake.params.parameters),
                                     snakemake.params.protocol, snakemake.output.figure, snakemake.params.title)
