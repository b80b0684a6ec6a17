from polyinstruct.report import figures
from polyinstruct.workflow.job import job

with job(snakemake):
    p = snakemake.params
    figures.write_drop_figure(
        list(snakemake.input.summaries),
        {family: dict(models) for family, models in p.families.items()},
        list(p.methods),
        p.protocol,
        list(p.languages),
        p.source,
        snakemake.output.figure,
        p.title,
    )
