from polyinstruct.generate import answers
from polyinstruct.io import load_jsonl, write_json, write_jsonl
from polyinstruct.models import loader
from polyinstruct.train import sweep
from polyinstruct.workflow.job import job

with job(snakemake, torch_threads=True):
    run, settings = dict(snakemake.params.run), snakemake.params.settings
    weights = sweep.run_weights(snakemake.input, run)
    pointer = loader.read_pointer(snakemake.input.model)
    tokenizer = loader.load_tokenizer(pointer)
    engine = answers.build_engine(pointer, run["method"], weights, settings, tokenizer, snakemake.params.seed)
    records, stats = answers.answer_eval_items(
        None,
        tokenizer,
        load_jsonl(snakemake.input.eval),
        snakemake.params.template,
        settings,
        seed=snakemake.params.seed,
        engine=engine,
    )
    write_jsonl(snakemake.output.responses, [{**r, "run": run} for r in records])
    where = {"evalset": snakemake.wildcards.evalset, "lang": snakemake.wildcards.lang}
    write_json(snakemake.output.stats, {**stats, "run": run, **where, "backend": settings["backend"]})
