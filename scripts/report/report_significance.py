from polyinstruct.report import significance
from polyinstruct.workflow.job import job

with job(snakemake):
    s = snakemake.params.settings
    significance.write_significance(
        list(snakemake.input.summaries),
        list(snakemake.input.rows),
        snakemake.output.csv,
        s["n_resamples"],
        s["confidence"],
        s["alpha"],
        s["seed"],
    )
