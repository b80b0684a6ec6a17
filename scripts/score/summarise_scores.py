from polyinstruct.io import load_jsonl, write_json, write_jsonl
from polyinstruct.score import scores
from polyinstruct.workflow.job import job

with job(snakemake):
    judged = {protocol: load_jsonl(snakemake.input[protocol]) for protocol in snakemake.params.protocols}
    rows, summary = scores.summarise_run(load_jsonl(snakemake.input.langid), judged, snakemake.params.gating)
    write_jsonl(snakemake.output.rows, rows)
    write_json(
        snakemake.output.summary,
        {
            "run": dict(snakemake.params.run),
            "evalset": snakemake.wildcards.evalset,
            "lang": snakemake.wildcards.lang,
            "summary": summary,
        },
    )
