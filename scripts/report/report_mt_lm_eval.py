from polyinstruct.report import mt_lm_eval
from polyinstruct.workflow.job import job

with job(snakemake):
    out = {k: str(snakemake.output[k]) for k in ("mt_csv", "mt_md", "lm_csv", "lm_md", "figures")}
    figures = mt_lm_eval.write(
        list(snakemake.input.mt),
        list(snakemake.input.comet),
        list(snakemake.input.lm_eval),
        out,
        snakemake.params.title,
    )
    print("figures:", figures)
