from polyinstruct.io import load_jsonl, write_json, write_jsonl
from polyinstruct.score.langid import from_settings
from polyinstruct.translate import make_engine, select_shard, translate_shard
from polyinstruct.workflow.job import job

with job(snakemake, torch_threads=True):
    p = snakemake.params
    records = load_jsonl(snakemake.input.records)
    shard = select_shard(records, snakemake.wildcards.shard, p.shard_size)
    settings = p.engine_settings
    if settings.get("join") == "position":  # a dataset's own translations, row i for record i
        settings = {**settings, "source_ids": [r["id"] for r in records]}
    engine = make_engine(p.engine, settings)
    fallback = make_engine(p.fallback["name"], p.fallback["settings"]) if p.fallback else None
    identifier = from_settings(p.langid, snakemake.input.get("lid_model"))
    kept, manifest = translate_shard(
        shard,
        engine,
        p.source_lang,
        snakemake.wildcards.lang,
        identifier,
        p.policy,
        fallback=fallback,
        length_ratio=tuple(p.length_ratio),
    )
    manifest["shard"] = snakemake.wildcards.shard
    print(f"shard {snakemake.wildcards.shard}: {manifest}")
    write_jsonl(snakemake.output.records, kept)
    write_json(snakemake.output.qa, manifest)
