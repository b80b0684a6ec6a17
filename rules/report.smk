# Tables and figures of the whole experiment; `snakemake --report report.html` collects them.
# Optional parts (pairwise, agreement, surface metrics) have their own rules, planned when configured.


rule report_tables:
    input:
        summaries=eval_targets("results/score/summary/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.json"),
        calls=judge_calls_targets(),
    output:
        csv=report(
            "results/report/scores.csv",
            caption="../report/scores_table.rst",
            category="Tables",
        ),
        markdown=report(
            "results/report/scores.md",
            caption="../report/scores_table.rst",
            category="Tables",
        ),
        figure=report(
            "results/report/scores_by_language.png",
            caption="../report/scores_by_language.rst",
            category="Figures",
        ),
        gating=report(
            "results/report/gating_drop.png",
            caption="../report/gating_drop.rst",
            category="Figures",
        ),
    params:
        title=config["experiment"],
        code=fingerprint("report"),
    log:
        "logs/report/tables.log",
    benchmark:
        "benchmarks/report/tables.tsv"
    conda:
        "../envs/report.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/report.py"


rule report_pairwise:
    input:
        summaries=inputs.pair_targets(config, inputs.PAIR_SUMMARY),
    output:
        csv=report(
            "results/report/pairwise.csv",
            caption="../report/pairwise_table.rst",
            category="Pairwise",
        ),
        markdown=report(
            "results/report/pairwise.md",
            caption="../report/pairwise_table.rst",
            category="Pairwise",
        ),
        figure=report(
            "results/report/position_bias.png",
            caption="../report/position_bias.rst",
            category="Pairwise",
        ),
    params:
        title=config["experiment"],
        code=fingerprint("report"),
    log:
        "logs/report/pairwise.log",
    benchmark:
        "benchmarks/report/pairwise.tsv"
    conda:
        "../envs/report.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/report_pairwise.py"


rule report_agreement:
    input:
        reports=inputs.agreement_targets(config),
    output:
        csv=report(
            "results/report/agreement.csv",
            caption="../report/agreement.rst",
            category="Agreement",
        ),
        markdown=report(
            "results/report/agreement.md",
            caption="../report/agreement.rst",
            category="Agreement",
        ),
        figure=report(
            "results/report/agreement.png",
            caption="../report/agreement.rst",
            category="Agreement",
        ),
    params:
        title=config["experiment"],
        confidence=config["agreement"]["confidence"],
        code=fingerprint("report"),
    log:
        "logs/report/agreement.log",
    benchmark:
        "benchmarks/report/agreement.tsv"
    conda:
        "../envs/report.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/report_agreement.py"


rule report_surface:
    input:
        surface=surface_targets(),
        summaries=eval_targets("results/score/summary/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.json"),
    output:
        csv=report(
            "results/report/surface.csv",
            caption="../report/surface.rst",
            category="Tables",
        ),
        markdown=report(
            "results/report/surface.md",
            caption="../report/surface.rst",
            category="Tables",
        ),
    params:
        title=config["experiment"],
        code=fingerprint("report"),
    log:
        "logs/report/surface.log",
    benchmark:
        "benchmarks/report/surface.tsv"
    conda:
        "../envs/report.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/report_surface.py"


rule all_report:
    input:
        rules.report_tables.output,
        report_targets(),
