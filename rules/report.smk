# Tables and figures of the whole experiment; `snakemake --report report.html` collects them.


rule report_tables:
    input:
        summaries=eval_targets("results/score/summary/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.json"),
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


rule all_report:
    input:
        rules.report_tables.output,
