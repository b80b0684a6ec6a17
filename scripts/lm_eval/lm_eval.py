from polyinstruct.io import write_json
from polyinstruct.lm_eval import lm_tasks
from polyinstruct.models import loader
from polyinstruct.train import sweep
from polyinstruct.workflow.job import job

with job(snakemake, torch_threads=True):
    run, settings = dict(snakemake.params.run), snakemake.params.settings
    weights = sweep.run_weights(snakemake.input, run, merged=settings["lora"] == "merged")
    args = lm_tasks.model_args(loader.read_pointer(snakemake.input.model), run["method"], weights)
    results = lm_tasks.evaluate(snakemake.wildcards.task, args, settings, snakemake.params.seed)
    write_json(snakemake.output.results, {"run": run, "task": snakemake.wildcards.task, "model_args": args, **results})
