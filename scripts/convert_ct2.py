from pathlib import Path

from polyinstruct import models
from polyinstruct.snakemake_job import job
from polyinstruct.translate.ct2 import convert

with job(snakemake):
    if snakemake.input.get("pointer"):
        source = models.read_pointer(snakemake.input.pointer)["load"]["pretrained_model_name_or_path"]
    else:
        source = snakemake.params.source
    convert(source, Path(snakemake.output[0]).parent)
