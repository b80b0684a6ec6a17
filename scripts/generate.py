from polyinstruct import generate, models
from polyinstruct.io import load_jsonl, write_json, write_jsonl
from polyinstruct.snakemake_job import job
from polyinstruct.train import sweep

with job(snakemake, torch_threads=True):
    run = dict(snakemake.params.run)
    weights = snakemake.input.get("weights")
    if "selection" in snakemake.input.keys():
        weights, run["selected_lr"] = sweep.chosen_weights(snakemake.input.selection, run["model"], run["method"],
                                                           run["dataset"], run["mixture"])
    pointer = models.read_pointer(snakemake.input.model)
    tokenizer = models.load_tokenizer(pointer)
    model = models.load_run_model(pointer, run["method"], weights)
    items = load_jsonl(snakemake.input.eval)
    records, stats = generate.answer_eval_items(model, tokenizer, items, snakemake.params.template,
                                                snakemake.params.settings)
    write_jsonl(snakemake.output.responses, [{**r, "run": run} for r in records])
    write_json(snakemake.output.stats, {**stats, "run": run})
