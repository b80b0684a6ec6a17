from polyinstruct import generate, models
from polyinstruct.io import load_jsonl, write_json, write_jsonl
from polyinstruct.snakemake_job import job

with job(snakemake, torch_threads=True):
    pointer = models.read_pointer(snakemake.input.model)
    tokenizer = models.load_tokenizer(pointer)
    model = models.load_causal_lm(pointer, snakemake.input.get("adapter"))
    items = load_jsonl(snakemake.input.eval)
    records, stats = generate.answer_eval_items(model, tokenizer, items, snakemake.params.template,
                                                snakemake.params.settings)
    run = dict(snakemake.params.run)
    write_jsonl(snakemake.output.responses, [{**r, "run": run} for r in records])
    write_json(snakemake.output.stats, {**stats, "run": run})
