from polyinstruct.io import write_json
from polyinstruct.train import sweep
from polyinstruct.workflow.job import job

with job(snakemake):
    candidates = [
        sweep.candidate(lr, files["metrics"], files["langid"]) for lr, files in snakemake.params.candidates.items()
    ]
    choice = sweep.select(snakemake.params.criterion, candidates)
    write_json(snakemake.output.selection, choice)
    print(choice)
