from polyinstruct.report import tables
from polyinstruct.workflow.job import job

with job(snakemake):
    out = snakemake.output
    tables.write_report(
        list(snakemake.input.summaries),
        list(snakemake.input.calls),
        out.csv,
        out.markdown,
        out.figure,
        out.gating,
        snakemake.params.title,
        significance_csv=snakemake.input.significance,
        significance_settings=snakemake.params.significance,
        protocol=snakemake.params.protocol,
        stats_paths=list(snakemake.input.generation),
    )
