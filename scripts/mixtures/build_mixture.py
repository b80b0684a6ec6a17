from polyinstruct.io import load_jsonl, sha256_file, write_json, write_jsonl
from polyinstruct.mixtures import compose
from polyinstruct.workflow.job import job

with job(snakemake):
    p = snakemake.params
    mixture = snakemake.wildcards.mixture
    parts = {key: load_jsonl(path) for key, path in snakemake.input.items()}
    if p.shares:
        train, valid, counts = compose.build_shares(
            mixture,
            parts,
            p.shares["shares"],
            p.shares["budget"],
            p.seed,
            p.validation_fraction,
            drop=tuple(p.shares["drop"]),
            policy=p.shares["shortfall"],
        )
        if counts["shortfall"]:
            print(
                f"warning: {mixture}: {counts['realised_budget']:,} of {counts['budget']:,} training records "
                f"(shortfall: {counts['shortfall_policy']}); shares requested {counts['shares']}, realised "
                f"{counts['realised_shares']}; available {counts['available']}"
            )
    else:
        train, valid, counts = compose.build(mixture, parts, p.languages, p.source_lang, p.seed, p.validation_fraction)
    write_jsonl(snakemake.output.train, train)
    write_jsonl(snakemake.output.valid, valid)
    write_json(
        snakemake.output.manifest,
        {
            "dataset": snakemake.wildcards.dataset,
            "mixture": mixture,
            "seed": p.seed,
            "validation_fraction": p.validation_fraction,
            **counts,
            "inputs": {path: sha256_file(path) for path in snakemake.input},
        },
    )
