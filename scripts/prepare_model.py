from pathlib import Path

from polyinstruct import models
from polyinstruct.snakemake_job import job

with job(snakemake, torch_threads=True):
    models.prepare(snakemake.wildcards.model, snakemake.params.spec, Path(snakemake.output.pointer).parent)
