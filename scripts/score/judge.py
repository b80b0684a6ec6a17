from polyinstruct.io import load_jsonl, write_json, write_jsonl
from polyinstruct.models import loader
from polyinstruct.score.judge import runner
from polyinstruct.workflow.job import job

with job(snakemake, torch_threads=True):
    settings, w = snakemake.params.settings, snakemake.wildcards
    pointer = loader.read_pointer(snakemake.input.judge_model) if "judge_model" in snakemake.input.keys() else None
    context = {
        "protocol": w.protocol,
        "run": "/".join(snakemake.params.run.values()),
        "evalset": w.evalset,
        "lang": w.lang,
    }
    judge = runner.make_judge(settings, pointer, context)
    rows, stats = runner.judge_single(w.protocol, load_jsonl(snakemake.input.responses), judge, settings)
    calls = runner.calls_summary(judge, stats, rows)
    print(calls)
    write_jsonl(snakemake.output.rows, rows)
    write_json(snakemake.output.calls, calls)
