from polyinstruct.data import normalise
from polyinstruct.io import write_json, write_jsonl
from polyinstruct.mixtures import stream
from polyinstruct.workflow.job import job

with job(snakemake):
    spec, name = snakemake.params.spec, snakemake.wildcards.dataset
    path = snakemake.input[0] if len(snakemake.input) else None  # the local copy of a URL source
    records, dropped = normalise.load_instructions(spec, path, name, snakemake.params.lang)
    write_jsonl(snakemake.output.records, records)
    stream.write_index(snakemake.output.records, snakemake.output.index)
    write_json(snakemake.output.manifest, normalise.manifest(spec, path, len(records), dropped))
