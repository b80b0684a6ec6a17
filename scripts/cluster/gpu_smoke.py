from polyinstruct.cluster import distributed
from polyinstruct.workflow.job import job

with job(snakemake):
    distributed.main(snakemake.output.report, snakemake.params.gpus)
