from polyinstruct import data
from polyinstruct.io import write_json, write_jsonl
from polyinstruct.snakemake_job import job

with job(snakemake):
    spec, lang = snakemake.params.spec, snakemake.wildcards.lang
    path = snakemake.input.source if snakemake.input else None
    if "types" in snakemake.input.keys():
        spec = {**spec, "types_path": snakemake.input.types}  # the local copy of a fetched task-type file
    records, dropped = data.load_eval(spec, path, snakemake.wildcards.evalset, lang)
    write_jsonl(snakemake.output.records, records)
    write_json(snakemake.output.manifest, data.manifest(spec, path, len(records), dropped))
