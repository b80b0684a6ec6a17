from polyinstruct.report import mt_lm_eval
from polyinstruct.workflow.job import job

with job(snakemake):
    keys = ("mt_csv", "mt_md", "table1_csv", "table1_md", "lm_csv", "lm_md", "figures")
    out = {k: str(snakemake.output[k]) for k in keys}
    figures = mt_lm_eval.write(
        list(snakemake.input.mt),
        list(snakemake.input.comet),
        list(snakemake.input.lm_eval),
        out,
        snakemake.params.title,
        dict(snakemake.params.pivots),
    )
    print("figures:", figures)
