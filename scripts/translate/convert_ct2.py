from pathlib import Path

from polyinstruct.models import loader
from polyinstruct.translate.ct2 import convert
from polyinstruct.workflow.job import job

with job(snakemake):
    if snakemake.input.get("pointer"):
        source = loader.read_pointer(snakemake.input.pointer)["load"]["pretrained_model_name_or_path"]
    else:
        source = snakemake.params.source
    convert(source, Path(snakemake.output[0]).parent)
