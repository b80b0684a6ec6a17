from pathlib import Path

from polyinstruct import models, train
from polyinstruct.snakemake_job import job

with job(snakemake, torch_threads=True):
    settings = {**snakemake.params.settings, "learning_rate": float(snakemake.wildcards.lr)}
    metrics = train.train_lora(models.read_pointer(snakemake.input.model), snakemake.input.train,
                               snakemake.input.valid, Path(snakemake.output.metrics).parent, settings,
                               snakemake.params.seed)
    print(metrics)
