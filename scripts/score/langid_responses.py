from polyinstruct import assets
from polyinstruct.io import load_jsonl, write_jsonl
from polyinstruct.score.langid import LanguageIdentifier, response_rows
from polyinstruct.workflow.job import job

with job(snakemake):
    settings = snakemake.params.langid
    identifier = LanguageIdentifier(assets.resolve(settings["model"], key="score.langid.model"), settings["scheme"])
    write_jsonl(snakemake.output.scores, response_rows(load_jsonl(snakemake.input.responses), identifier))
