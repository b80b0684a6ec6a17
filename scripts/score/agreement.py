from polyinstruct.io import load_jsonl, write_json
from polyinstruct.score import agreement
from polyinstruct.workflow.job import job

with job(snakemake):
    s = snakemake.params.settings
    rows = [row for path in snakemake.input.pairs for row in load_jsonl(path)]
    result = agreement.workflow_report(
        rows,
        snakemake.input.votes,
        use_gated=s["use_gated"],
        n_resamples=s["n_resamples"],
        confidence=s["confidence"],
        seed=snakemake.params.seed,
        fleiss_raters=s["fleiss_raters"],
        merge_both_bad=s["merge_both_bad"],
    )
    print(result)
    write_json(
        snakemake.output.report, {"evalset": snakemake.wildcards.evalset, "lang": snakemake.wildcards.lang, **result}
    )
