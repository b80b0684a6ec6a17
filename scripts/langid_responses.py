from polyinstruct import assets
from polyinstruct.io import load_jsonl, write_jsonl
from polyinstruct.langid import LanguageIdentifier, same_language
from polyinstruct.snakemake_job import job

with job(snakemake):
    settings = snakemake.params.langid
    identifier = LanguageIdentifier(assets.resolve(settings["model"], key="score.langid.model"), settings["scheme"])
    records = load_jsonl(snakemake.input.responses)
    # the last turn's answer is what the judge grades; every turn is checked
    per_turn = [identifier.predict(r["responses"]) for r in records]
    rows = []
    for record, preds in zip(records, per_turn):
        correct = all(same_language(p.lang, record["lang"]) for p in preds)
        rows.append({"id": record["id"], "lang": record["lang"], "category": record["category"],
                     "predicted": [p.lang or p.label for p in preds], "prob": [round(p.prob, 4) for p in preds],
                     "correct": correct})
    write_jsonl(snakemake.output.scores, rows)
