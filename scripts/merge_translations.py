from polyinstruct.io import write_json, write_jsonl
from polyinstruct.snakemake_job import job
from polyinstruct.translate import merge_shards

with job(snakemake):
    records, manifest = merge_shards(list(snakemake.input.shards), list(snakemake.input.qa))
    write_jsonl(snakemake.output.records, records)
    write_json(snakemake.output.manifest, manifest)
