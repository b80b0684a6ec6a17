# Data: configured URLs fetched once, instruction datasets and eval sets normalised into polyinstruct's
# JSONL schemas (polyinstruct/data/). URLs are fetched into results/external/<scheme>/<host>/<path>;
# `#member` URLs read one file of an archive, downloaded once. Planning downloads nothing; on a cluster
# the fetching rules run on the submit host (rules/cluster.smk).


rule fetch_url:
    output:
        paths.FETCHED,
    wildcard_constraints:
        scheme="https?",
        address=r"(?!.*\.contents/)[^#?]+",
    params:
        url=lambda wc: sources.url_of(wc.scheme, wc.address),
    log:
        log(paths.FETCHED),
    benchmark:
        timing(paths.FETCHED)
    conda:
        "../envs/data.yaml"
    resources:
        runtime=60,
    script:
        "../scripts/data/fetch_url.py"


rule extract_member:
    input:
        archive=paths.ARCHIVE,
    output:
        paths.EXTRACTED,
    wildcard_constraints:
        scheme="https?",
        archive=r"[^#?]+?\.(?:tar\.gz|tgz|tar\.xz|tar\.bz2|tar|zip)",
    log:
        log(paths.EXTRACTED),
    benchmark:
        timing(paths.EXTRACTED)
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/data/extract_member.py"


rule normalise_instructions:
    input:
        lambda wc: inputs.dataset_source(config, wc),
    output:
        records=paths.INSTRUCTIONS,
        index=paths.INSTRUCTIONS_INDEX,
        manifest=paths.INSTRUCTIONS_MANIFEST,
    params:
        spec=lambda wc: config["datasets"][wc.dataset],
        lang=config["source_language"],
    log:
        log(paths.INSTRUCTIONS),
    benchmark:
        timing(paths.INSTRUCTIONS)
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=4000,
        runtime=60,
    script:
        "../scripts/data/normalise_instructions.py"


rule normalise_eval:
    input:
        unpack(lambda wc: inputs.eval_source(config, wc)),
    output:
        records=paths.EVAL,
        manifest=paths.EVAL_MANIFEST,
    params:
        spec=lambda wc: grid.without_planning_keys(config["evalsets"][wc.evalset]),
    log:
        log(paths.EVAL),
    benchmark:
        timing(paths.EVAL)
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/data/normalise_eval.py"


rule all_data:
    input:
        expand(paths.INSTRUCTIONS, dataset=config["datasets"]),
        expand(paths.EVAL, evalset=config["evalsets"], lang=EVAL_LANGUAGES),
