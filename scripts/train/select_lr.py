from polyinstruct.io import write_json
from polyinstruct.train import sweep
from polyinstruct.workflow.job import job

with job(snakemake):
    weights = snakemake.params.weights or None
    candidates = [sweep.candidate(lr, files) for lr, files in snakemake.params.candidates.items()]
    choice = sweep.select(snakemake.params.criterion, candidates, weights)
    w = snakemake.wildcards
    choice = {"run": {"model": w.model, "method": w.method, "dataset": w.dataset, "mixture": w.mixture}, **choice}
    write_json(snakemake.output.selection, choice)
    print(choice)
