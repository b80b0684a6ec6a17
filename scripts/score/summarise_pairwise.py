from polyinstruct.io import load_jsonl, write_json, write_jsonl
from polyinstruct.score import scores
from polyinstruct.workflow.job import job

with job(snakemake):
    rows, summary = scores.summarise_pair(
        load_jsonl(snakemake.input.rows),
        load_jsonl(snakemake.input.langid_first),
        load_jsonl(snakemake.input.langid_second),
        snakemake.params.gating,
        snakemake.wildcards.protocol,
    )
    write_jsonl(snakemake.output.rows, rows)
    write_json(
        snakemake.output.summary,
        {
            "protocol": snakemake.wildcards.protocol,
            "first": snakemake.params.names[0],
            "second": snakemake.params.names[1],
            "evalset": snakemake.wildcards.evalset,
            "lang": snakemake.wildcards.lang,
            "summary": summary,
        },
    )
