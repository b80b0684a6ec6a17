from polyinstruct.io import write_json
from polyinstruct.models import loader
from polyinstruct.score.judge import runner
from polyinstruct.workflow.job import job

with job(snakemake):
    pointers = {protocol: loader.read_pointer(path) for protocol, path in snakemake.params.models.items()}
    plan = runner.plan(snakemake.params.jobs, snakemake.params.settings, pointers)
    write_json(snakemake.output.plan, plan)
    message = f"judge dry run: {plan['total_calls']} judge calls would be made " + ", ".join(
        f"{p}: {e['calls']} of {e['prompts']} prompts in {e['jobs']} jobs" for p, e in plan["by_protocol"].items()
    )
    print(message)
    import sys

    sys.__stdout__.write(message + "\n")
