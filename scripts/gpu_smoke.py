from polyinstruct import cluster
from polyinstruct.snakemake_job import job

with job(snakemake):
    cluster.main(snakemake.output.report, snakemake.params.gpus)
