import yaml

from polyinstruct.generate import answers
from polyinstruct.io import load_jsonl, write_jsonl, write_text
from polyinstruct.models import loader
from polyinstruct.mt import mt_eval
from polyinstruct.train import sweep
from polyinstruct.workflow.job import job

with job(snakemake, torch_threads=True):
    run, w = dict(snakemake.params.run), snakemake.wildcards
    weights = sweep.run_weights(snakemake.input, run)
    pointer = loader.read_pointer(snakemake.input.model)
    tokenizer = loader.load_tokenizer(pointer)
    engine = answers.build_engine(
        pointer, run["method"], weights, snakemake.params.settings, tokenizer, snakemake.params.seed
    )
    with open(snakemake.input.prompts, encoding="utf-8") as fh:
        prompts = yaml.safe_load(fh)
    records, stats = mt_eval.translate(
        engine,
        tokenizer,
        load_jsonl(snakemake.input.segments),
        w.src,
        w.tgt,
        prompts,
        snakemake.params.template,
        snakemake.params.max_new_tokens,
    )
    print(stats)
    write_jsonl(snakemake.output.translations, [{**r, "run": run} for r in records])
    write_text(snakemake.output.hypotheses, "".join(r["hypothesis"] + "\n" for r in records))
