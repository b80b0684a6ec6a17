from polyinstruct import lm_tasks, models
from polyinstruct.io import write_json
from polyinstruct.snakemake_job import job
from polyinstruct.train import sweep

with job(snakemake, torch_threads=True):
    run, settings = dict(snakemake.params.run), snakemake.params.settings
    weights = sweep.run_weights(snakemake.input, run)
    if weights and run["method"] == "lora" and settings["lora"] == "merged":
        weights = str(weights).rstrip("/").removesuffix("adapter") + "merged"
    args = lm_tasks.model_args(models.read_pointer(snakemake.input.model), run["method"], weights)
    results = lm_tasks.evaluate(snakemake.wildcards.task, args, settings, snakemake.params.seed)
    write_json(snakemake.output.results, {"run": run, "task": snakemake.wildcards.task, "model_args": args,
                                          **results})
