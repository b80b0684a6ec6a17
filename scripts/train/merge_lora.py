from polyinstruct.models import loader
from polyinstruct.train import merge
from polyinstruct.workflow.job import job

with job(snakemake, torch_threads=True):
    merge.merge_lora(loader.read_pointer(snakemake.input.model), snakemake.input.adapter, snakemake.output.merged)
