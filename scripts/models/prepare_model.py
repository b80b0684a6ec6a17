from pathlib import Path

from polyinstruct.models import loader
from polyinstruct.workflow.job import job

with job(snakemake, torch_threads=True):
    loader.prepare(snakemake.wildcards.model, snakemake.params.spec, Path(snakemake.output.pointer).parent)
