from polyinstruct import models
from polyinstruct.snakemake_job import job
from polyinstruct.train import merge

with job(snakemake, torch_threads=True):
    merge.merge_lora(models.read_pointer(snakemake.input.model), snakemake.input.adapter, snakemake.output.merged)
