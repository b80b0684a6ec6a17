from polyinstruct.report import figures
from polyinstruct.workflow.job import job

with job(snakemake):
    figures.write_size_figure(
        list(snakemake.input.summaries),
        dict(snakemake.params.parameters),
        snakemake.params.protocol,
        snakemake.output.figure,
        snakemake.params.title,
        method=snakemake.wildcards.method,
        source=snakemake.params.source,
        name=snakemake.wildcards.family,
    )
