from polyinstruct.io import load_jsonl, write_json, write_jsonl
from polyinstruct.score import surface
from polyinstruct.workflow.job import job

with job(snakemake):
    rows, summary = surface.measure(
        load_jsonl(snakemake.input.responses),
        load_jsonl(snakemake.input.langid),
        snakemake.wildcards.lang,
        snakemake.params.settings,
    )
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
