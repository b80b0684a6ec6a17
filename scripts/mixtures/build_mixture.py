from polyinstruct.io import sha256_file, write_json
from polyinstruct.mixtures import stream
from polyinstruct.workflow.job import job

with job(snakemake):
    p = snakemake.params
    mixture = snakemake.wildcards.mixture
    parts = {key: path for key, path in snakemake.input.items() if key != "indexes"}
    counts = stream.build_files(
        mixture,
        parts,
        snakemake.output.train,
        snakemake.output.valid,
        seed=p.seed,
        validation_fraction=p.validation_fraction,
        languages=p.languages,
        source_lang=p.source_lang,
        shares=p.shares,
    )
    if counts.get("shortfall"):
        print(
            f"warning: {mixture}: {counts['realised_budget']:,} of {counts['budget']:,} training records "
            f"(shortfall: {counts['shortfall_policy']}); shares requested {counts['shares']}, realised "
            f"{counts['realised_shares']}; available {counts['available']}"
        )
    write_json(
        snakemake.output.manifest,
        {
            "dataset": snakemake.wildcards.dataset,
            "mixture": mixture,
            "seed": p.seed,
            "validation_fraction": p.validation_fraction,
            **counts,
            "inputs": {path: sha256_file(path) for path in parts.values()},
        },
    )
