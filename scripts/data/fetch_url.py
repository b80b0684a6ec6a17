from polyinstruct.data import sources
from polyinstruct.workflow.job import job

with job(snakemake):
    fetched = sources.download(snakemake.params.url, snakemake.output[0])
    print(f"fetched {fetched['url']}: {fetched['bytes']} bytes, sha256 {fetched['sha256']}")
