# Tables and figures of the whole experiment; `snakemake --report report.html` collects them.
# Optional parts (pairwise, agreement, surface metrics, the size, radar and criteria figures) have their own
# rules, planned when the config makes them meaningful (report_targets in common.smk).


rule report_significance:
    input:
        summaries=eval_targets("results/score/summary/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.json"),
        rows=eval_targets("results/score/summary/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.jsonl"),
    output:
        csv=report(
            "results/report/significance.csv",
            caption="../report/significance.rst",
            category="Tables",
        ),
    params:
        settings=significance.settings(config),
        code=fingerprint("report"),
    log:
        "logs/report/significance.log",
    benchmark:
        "benchmarks/report/significance.tsv"
    conda:
        "../envs/report.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/report_significance.py"


rule report_tables:
    input:
        summaries=eval_targets("results/score/summary/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.json"),
        calls=judge_calls_targets(),
        significance=rules.report_significance.output.csv,
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
        protocol=figures.headline_protocol(SINGLE_PROTOCOLS),
        significance=significance.settings(config),
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


rule report_size_figure:
    input:
        summaries=eval_targets("results/score/summary/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.json"),
    output:
        figure=report(
            "results/report/score_vs_size.png",
            caption="../report/score_vs_size.rst",
            category="Figures",
        ),
    params:
        title=config["experiment"],
        parameters=figures.sized_models(config),
        protocol=figures.headline_protocol(SINGLE_PROTOCOLS),
        code=fingerprint("report"),
    log:
        "logs/report/score_vs_size.log",
    benchmark:
        "benchmarks/report/score_vs_size.tsv"
    conda:
        "../envs/report.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/report_size_figure.py"


rule report_category_radar:
    input:
        summaries=eval_targets("results/score/summary/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.json"),
    output:
        figure=report(
            "results/report/category_radar.png",
            caption="../report/category_radar.rst",
            category="Figures",
        ),
    params:
        title=config["experiment"],
        code=fingerprint("report"),
    log:
        "logs/report/category_radar.log",
    benchmark:
        "benchmarks/report/category_radar.tsv"
    conda:
        "../envs/report.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/report_category_radar.py"


rule report_criteria_heatmap:
    input:
        summaries=eval_targets("results/score/summary/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.json"),
    output:
        figure=report(
            "results/report/criteria_heatmap.png",
            caption="../report/criteria_heatmap.rst",
            category="Figures",
        ),
    params:
        title=config["experiment"],
        code=fingerprint("report"),
    log:
        "logs/report/criteria_heatmap.log",
    benchmark:
        "benchmarks/report/criteria_heatmap.tsv"
    conda:
        "../envs/report.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/report_criteria_heatmap.py"


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
