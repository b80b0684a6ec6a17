from polyinstruct import models
from polyinstruct.io import load_jsonl, write_jsonl
from polyinstruct.judge.local import LocalJudge
from polyinstruct.judge.single import Template, grade
from polyinstruct.snakemake_job import job

with job(snakemake, torch_threads=True):
    settings = snakemake.params.judge
    pointer = models.read_pointer(snakemake.input.judge_model)
    judge = LocalJudge(models.load_causal_lm(pointer), models.load_tokenizer(pointer),
                       batch_size=settings["batch_size"], max_new_tokens=settings["max_new_tokens"],
                       response_prefix=settings["response_prefix"])
    rows, stats = grade(load_jsonl(snakemake.input.responses), judge, Template(snakemake.input.template),
                        pointer["name"])
    print(stats)
    write_jsonl(snakemake.output.scores, rows)
