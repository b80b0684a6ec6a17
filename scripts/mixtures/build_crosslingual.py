from collections import Counter

from polyinstruct.io import Malformed, sha256_file, write_json, write_jsonl
from polyinstruct.mixtures import crosslingual, stream
from polyinstruct.workflow.job import job

with job(snakemake):
    p = snakemake.params
    settings, spec = p.settings, p.settings["parallel"]
    records, dropped, per_pair = [], Counter(), {}
    for pivot, lang in p.pairs:
        malformed = Malformed.of(spec, "crosslingual.parallel")
        prompts = crosslingual.load_prompts(settings["prompts_dir"], pivot)
        every = crosslingual.read_parallel(
            spec["format"], crosslingual.parallel_paths(spec, pivot, lang), pivot, lang, malformed
        )
        pairs, first_line = crosslingual.selected_lines(every, spec.get("lines"))
        built, pair_dropped = crosslingual.build(pairs, pivot, lang, prompts, settings, p.seed, first_line)
        malformed.add_to(pair_dropped)
        records += built
        dropped += pair_dropped
        per_pair[f"{pivot}-{lang}"] = {"parallel": len(every), "used": len(pairs), "records": len(built)}
    write_jsonl(snakemake.output.records, records)
    stream.write_index(snakemake.output.records, snakemake.output.index)
    write_json(
        snakemake.output.manifest,
        {
            "records": len(records),
            "lines": spec.get("lines"),
            "pairs": per_pair,
            "tasks": dict(sorted(Counter(r["task"] for r in records).items())),
            "directions": dict(sorted(Counter(r["direction"] for r in records).items())),
            "dropped": dict(sorted(dropped.items())),
            "dropped_total": sum(dropped.values()),
            "inputs": {path: sha256_file(path) for path in snakemake.input},
            "seed": p.seed,
        },
    )
