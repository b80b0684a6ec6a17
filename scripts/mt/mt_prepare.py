from collections import Counter

from polyinstruct.io import Malformed, sha256_file, write_json, write_jsonl, write_text
from polyinstruct.mt import mt_eval
from polyinstruct.workflow.job import job

with job(snakemake):
    w, spec = snakemake.wildcards, snakemake.params.spec
    paths = {k: snakemake.input[k] for k in snakemake.input.keys()}
    malformed, dropped = Malformed.of(spec, f"mt_eval.testsets.{w.testset}"), Counter()
    items = mt_eval.prepare(paths, spec, snakemake.params.seed, w.src, w.tgt, malformed, dropped)
    write_jsonl(snakemake.output.segments, items)
    write_text(snakemake.output.source, "".join(item["source"] + "\n" for item in items))
    write_text(snakemake.output.reference, "".join(item["reference"] + "\n" for item in items))
    malformed.add_to(dropped)
    write_json(
        snakemake.output.manifest,
        {
            "segments": len(items),
            "dropped": dict(sorted(dropped.items())),
            "dropped_total": sum(dropped.values()),
            "inputs": {name: {"path": path, "sha256": sha256_file(path)} for name, path in sorted(paths.items())},
        },
    )
