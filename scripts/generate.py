from polyinstruct import generate, models
from polyinstruct.io import load_jsonl, write_json, write_jsonl
from polyinstruct.snakemake_job import job
from polyinstruct.train import sweep

with job(snakemake, torch_threads=True):
    run, settings = dict(snakemake.params.run), snakemake.params.settings
    weights = sweep.run_weights(snakemake.input, run)
    pointer = models.read_pointer(snakemake.input.model)
    tokenizer = models.load_tokenizer(pointer)
    engine = generate.build_engine(pointer, run["method"], weights, settings, tokenizer, snakemake.params.seed)
    records, stats = generate.answer_eval_items(None, tokenizer, load_jsonl(snakemake.input.eval),
                                                snakemake.params.template, settings, seed=snakemake.params.seed,
                                                engine=engine)
    write_jsonl(snakemake.output.responses, [{**r, "run": run} for r in records])
    write_json(snakemake.output.stats, {**stats, "run": run, "backend": settings["backend"]})
