from polyinstruct import data
from polyinstruct.io import write_json, write_jsonl
from polyinstruct.snakemake_job import job

with job(snakemake):
    spec, name = snakemake.params.spec, snakemake.wildcards.dataset
    records, dropped = data.normalise_instructions(data.iter_source(spec), name, snakemake.params.lang, spec["fields"],
                                                 spec.get("limit"))
    write_jsonl(snakemake.output.records, records)
    write_json(snakemake.output.manifest, data.manifest(spec, spec.get("path"), len(records), dropped))
