# Data named by URL in the config (datasets, eval sets, translations, parallel text, MT test sets):
# fetched once into results/external/<scheme>/<host>/<path>; `#member` URLs read one file of an archive,
# which is downloaded once. Planning downloads nothing. Both rules run on the submit host on a cluster
# (compute nodes often have no internet; see rules/cluster.smk).


rule fetch_url:
    output:
        "results/external/{scheme}/{address}",
    wildcard_constraints:
        scheme="https?",
        address=r"(?!.*\.contents/)[^#?]+",
    params:
        url=lambda wc: sources.url_of(wc.scheme, wc.address),
    log:
        "logs/external/{scheme}/{address}.log",
    benchmark:
        "benchmarks/external/{scheme}/{address}.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=500,
        runtime=60,
    script:
        "../scripts/fetch_url.py"


rule extract_member:
    input:
        archive="results/external/{scheme}/{archive}",
    output:
        "results/external/{scheme}/{archive}.contents/{member}",
    wildcard_constraints:
        scheme="https?",
        archive=r"[^#?]+?\.(?:tar\.gz|tgz|tar\.xz|tar\.bz2|tar|zip)",
    log:
        "logs/external/{scheme}/{archive}.contents/{member}.log",
    benchmark:
        "benchmarks/external/{scheme}/{archive}.contents/{member}.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=500,
        runtime=20,
    script:
        "../scripts/extract_member.py"
