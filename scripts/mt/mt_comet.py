from polyinstruct.io import write_json
from polyinstruct.mixtures import crosslingual
from polyinstruct.mt import comet_score
from polyinstruct.workflow.job import job

with job(snakemake, torch_threads=True):
    w, settings = snakemake.wildcards, snakemake.params.settings
    read = crosslingual.read_lines
    result = comet_score.score(
        settings["model"],
        read(snakemake.input.source),
        read(snakemake.input.hypotheses),
        read(snakemake.input.reference),
        batch_size=settings["batch_size"],
        gpus=settings["gpus"],
    )
    write_json(
        snakemake.output.scores,
        {"run": snakemake.params.run, "testset": w.testset, "src": w.src, "tgt": w.tgt, **result},
    )
