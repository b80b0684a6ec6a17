from polyinstruct.data import evalsets, normalise
from polyinstruct.io import write_json, write_jsonl
from polyinstruct.workflow.job import job

with job(snakemake):
    spec, lang = snakemake.params.spec, snakemake.wildcards.lang
    path = snakemake.input.source if snakemake.input else None
    if "types" in snakemake.input.keys():
        spec = {**spec, "types_path": snakemake.input.types}  # the local copy of a fetched task-type file
    records, dropped = normalise.load_eval(spec, path, snakemake.wildcards.evalset, lang)
    extra = evalsets.task_types_note(spec, path, lang, records) if spec.get("format") == "messages" else None
    manifest = normalise.manifest(spec, path, len(records), dropped, extra)
    if "references" in snakemake.input.keys():  # FastChat reference answers, joined by question id
        records, manifest["references"] = evalsets.join_reference_answers(records, snakemake.input.references)
    write_jsonl(snakemake.output.records, records)
    write_json(snakemake.output.manifest, manifest)
