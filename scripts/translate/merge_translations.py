from polyinstruct.io import write_json, write_jsonl
from polyinstruct.mixtures import stream
from polyinstruct.translate import merge_shards
from polyinstruct.workflow.job import job

with job(snakemake):
    records, manifest = merge_shards(list(snakemake.input.shards), list(snakemake.input.qa))
    write_jsonl(snakemake.output.records, records)
    stream.write_index(snakemake.output.records, snakemake.output.index)
    write_json(snakemake.output.manifest, manifest)
