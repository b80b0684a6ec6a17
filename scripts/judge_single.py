from polyinstruct import models
from polyinstruct.io import load_jsonl, write_jsonl
from polyinstruct.judge.local import LocalJudge
from polyinstruct.judge.single import Template, parse_rating
from polyinstruct.snakemake_job import job

with job(snakemake, torch_threads=True):
    settings = snakemake.params.judge
    template = Template(snakemake.input.template)
    pointer = models.read_pointer(snakemake.input.judge_model)
    judge = LocalJudge(models.load_causal_lm(pointer), models.load_tokenizer(pointer),
                       batch_size=settings["batch_size"], max_new_tokens=settings["max_new_tokens"],
                       response_prefix=settings["response_prefix"])
    records = load_jsonl(snakemake.input.responses)
    prompts = [template.render(r["turns"][0], r["responses"][0], r["lang"]) for r in records]
    answers, stats = judge.complete(prompts)
    rows = []
    for record, answer in zip(records, answers):
        verdict = parse_rating(answer, 1, 3)
        rows.append({"id": record["id"], "lang": record["lang"], "rating": verdict.rating,
                     "parse_error": verdict.parse_error, "raw": answer,
                     "judge": {"model": pointer["name"], "template": template.version}})
    print(stats)
    write_jsonl(snakemake.output.scores, rows)
