from pathlib import Path

from polyinstruct.io import sha256_file
from polyinstruct.models import loader
from polyinstruct.train import launch
from polyinstruct.workflow.job import job

with job(snakemake, torch_threads=True):
    spec = launch.job_spec(
        snakemake.wildcards.method,
        loader.read_pointer(snakemake.input.model),
        snakemake.input.train,
        snakemake.input.valid,
        Path(snakemake.output.metrics).parent,
        snakemake.params.settings,
        float(snakemake.wildcards.lr),
        snakemake.params.seed,
        {
            name: sha256_file(path)
            for name, path in (("train", snakemake.input.train), ("valid", snakemake.input.valid))
        },
    )
    metrics = launch.run(spec, processes=snakemake.resources.gpu)
    print(metrics)
