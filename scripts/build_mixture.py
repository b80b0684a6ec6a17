from polyinstruct import mixtures
from polyinstruct.io import load_jsonl, sha256_file, write_json, write_jsonl
from polyinstruct.snakemake_job import job

with job(snakemake):
    p = snakemake.params
    by_lang = {lang: load_jsonl(path) for lang, path in zip(p.languages, snakemake.input)}
    train, valid, counts = mixtures.build(snakemake.wildcards.mixture, by_lang, p.languages, p.source_lang,
                                          p.seed, p.validation_fraction)
    write_jsonl(snakemake.output.train, train)
    write_jsonl(snakemake.output.valid, valid)
    write_json(snakemake.output.manifest, {
        "dataset": snakemake.wildcards.dataset, "mixture": snakemake.wildcards.mixture, "seed": p.seed,
        "validation_fraction": p.validation_fraction, **counts,
        "inputs": {path: sha256_file(path) for path in snakemake.input},
    })
