from polyinstruct import sources
from polyinstruct.snakemake_job import job

with job(snakemake):
    extracted = sources.extract(snakemake.input.archive, snakemake.wildcards.member, snakemake.output[0])
    print(f"extracted {extracted['member']} from {extracted['archive']}: {extracted['bytes']} bytes")
