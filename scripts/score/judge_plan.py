from polyinstruct.io import write_json
from polyinstruct.models import loader
from polyinstruct.score.judge import runner
from polyinstruct.workflow.job import job

with job(snakemake):
    pointer = loader.read_pointer(snakemake.input.judge_model) if "judge_model" in snakemake.input.keys() else None
    plan = runner.plan(snakemake.params.jobs, snakemake.params.settings, pointer)
    write_json(snakemake.output.plan, plan)
    message = f"judge dry run: {plan['total_calls']} judge calls would be made " + ", ".join(
        f"{p}: {e['calls']} of {e['prompts']} prompts in {e['jobs']} jobs" for p, e in plan["by_protocol"].items()
    )
    print(message)
    import sys

    sys.__stdout__.write(message + "\n")
