from polyinstruct.report import figures
from polyinstruct.workflow.job import job

with job(snakemake):
    p = snakemake.params
    figures.write_families_figure(
        list(snakemake.input.summaries),
        dict(p.chosen),
        dict(p.parameters),
        p.protocol,
        p.source,
        snakemake.output.figure,
        p.title,
    )
