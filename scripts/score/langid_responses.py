from polyinstruct.io import load_jsonl, write_jsonl
from polyinstruct.score.langid import from_settings, response_rows
from polyinstruct.workflow.job import job

with job(snakemake):
    identifier = from_settings(snakemake.params.langid, snakemake.input.get("lid_model"))
    write_jsonl(snakemake.output.scores, response_rows(load_jsonl(snakemake.input.responses), identifier))
