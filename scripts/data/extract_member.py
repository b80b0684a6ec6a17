from polyinstruct.data import sources
from polyinstruct.workflow.job import job

with job(snakemake):
    extracted = sources.extract(snakemake.input.archive, snakemake.wildcards.member, snakemake.output[0])
    print(f"extracted {extracted['member']} from {extracted['archive']}: {extracted['bytes']} bytes")
