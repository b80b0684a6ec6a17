# Tables and figures of the whole experiment (polyinstruct/report/); `snakemake --report report.html`
# collects them, opening with language fidelity (its category sorts first) and then the judge scores. Optional
# parts (pairwise, agreement, surface metrics, MT and lm-eval, the size, radar and criteria figures, surface
# metrics by lr) have their own rules, planned when the config makes them meaningful (targets.report).
# report_browse writes the answer browser, a static site to read every answer beside its scores.


rule report_language_fidelity:
    input:
        langid=targets.evaluated(config, paths.LANGID),
    output:
        markdown=report(paths.FIDELITY_MD, caption="../report/language_fidelity.rst", category=FIDELITY_CATEGORY),
        csv=report(paths.FIDELITY_CSV, caption="../report/language_fidelity.rst", category=FIDELITY_CATEGORY),
        figure=report(paths.FIDELITY_FIGURE, caption="../report/language_fidelity.rst", category=FIDELITY_CATEGORY),
        comparisons=report(
            paths.FIDELITY_COMPARISONS, caption="../report/language_fidelity.rst", category=FIDELITY_CATEGORY
        ),
    params:
        title=config["experiment"],
        settings=fidelity.settings(config),
    log:
        log(paths.FIDELITY_MD),
    benchmark:
        timing(paths.FIDELITY_MD)
    conda:
        "../envs/report.yaml"
    script:
        "../scripts/report/report_language_fidelity.py"


rule report_significance:
    input:
        summaries=targets.evaluated(config, paths.SUMMARY),
        rows=targets.evaluated(config, paths.SUMMARY_ROWS),
    output:
        csv=report(paths.SIGNIFICANCE, caption="../report/significance.rst", category="Tables"),
    params:
        settings=significance.settings(config),
    log:
        log(paths.SIGNIFICANCE),
    benchmark:
        timing(paths.SIGNIFICANCE)
    conda:
        "../envs/report.yaml"
    script:
        "../scripts/report/report_significance.py"


rule report_tables:
    input:
        summaries=targets.evaluated(config, paths.SUMMARY),
        calls=targets.evaluated_judged(config, paths.JUDGE_CALLS) + targets.pairs(config, paths.PAIRWISE_CALLS),
        significance=paths.SIGNIFICANCE,
        generation=targets.evaluated(config, paths.RESPONSE_STATS),
    output:
        csv=report(paths.SCORES_CSV, caption="../report/scores_table.rst", category=SCORES_CATEGORY),
        markdown=report(paths.SCORES_MD, caption="../report/scores_table.rst", category=SCORES_CATEGORY),
        figure=report(paths.SCORES_FIGURE, caption="../report/scores_by_language.rst", category=SCORES_CATEGORY),
        gating=report(paths.GATING_FIGURE, caption="../report/gating_drop.rst", category=SCORES_CATEGORY),
    params:
        title=config["experiment"],
        protocol=figures.headline_protocol(SINGLE_PROTOCOLS),
        significance=significance.settings(config),
    log:
        log(paths.SCORES_CSV),
    benchmark:
        timing(paths.SCORES_CSV)
    conda:
        "../envs/report.yaml"
    script:
        "../scripts/report/report_tables.py"


rule report_size_figure:
    input:
        summaries=lambda wc: targets.family_summaries(config, wc.family, wc.method),
    output:
        figure=report(
            paths.SIZE_FIGURE, caption="../report/score_vs_size.rst", category="Figures", subcategory="Chen et al."
        ),
    params:
        title=config["experiment"],
        parameters=lambda wc: figures.families(config)[wc.family],
        protocol=figures.headline_protocol(SINGLE_PROTOCOLS),
        source=config["source_language"],
    log:
        log(paths.SIZE_FIGURE),
    benchmark:
        timing(paths.SIZE_FIGURE)
    conda:
        "../envs/report.yaml"
    script:
        "../scripts/report/report_size_figure.py"


rule report_drop_figure:
    input:
        summaries=targets.evaluated(config, paths.SUMMARY),
    output:
        figure=report(
            paths.DROP_SIZE_FIGURE,
            caption="../report/gating_drop_vs_size.rst",
            category="Figures",
            subcategory="Chen et al.",
        ),
    params:
        title=config["experiment"],
        families=figures.families(config),
        methods=config["train"]["methods"],
        protocol=figures.headline_protocol(SINGLE_PROTOCOLS),
        languages=figures.seen_languages(config),
        source=config["source_language"],
    log:
        log(paths.DROP_SIZE_FIGURE),
    benchmark:
        timing(paths.DROP_SIZE_FIGURE)
    conda:
        "../envs/report.yaml"
    script:
        "../scripts/report/report_drop_figure.py"


rule report_families_figure:
    input:
        summaries=targets.evaluated(config, paths.SUMMARY),
    output:
        figure=report(
            paths.FAMILIES_FIGURE, caption="../report/families.rst", category="Figures", subcategory="Chen et al."
        ),
    params:
        title=config["experiment"],
        chosen=figures.family_choice(config),
        parameters=figures.sized_models(config),
        protocol=figures.headline_protocol(SINGLE_PROTOCOLS),
        source=config["source_language"],
    log:
        log(paths.FAMILIES_FIGURE),
    benchmark:
        timing(paths.FAMILIES_FIGURE)
    conda:
        "../envs/report.yaml"
    script:
        "../scripts/report/report_families_figure.py"


rule report_category_radar:
    input:
        summaries=targets.evaluated(config, paths.SUMMARY),
    output:
        figure=report(paths.RADAR_FIGURE, caption="../report/category_radar.rst", category="Figures"),
    params:
        title=config["experiment"],
    log:
        log(paths.RADAR_FIGURE),
    benchmark:
        timing(paths.RADAR_FIGURE)
    conda:
        "../envs/report.yaml"
    script:
        "../scripts/report/report_category_radar.py"


rule report_turns:
    input:
        summaries=targets.evaluated(config, paths.SUMMARY),
    output:
        csv=report(paths.TURN_SCORES_CSV, caption="../report/scores_by_turn.rst", category="Tables"),
        figure=report(paths.TURN_FIGURE, caption="../report/scores_by_turn.rst", category="Figures"),
    params:
        title=config["experiment"],
    log:
        log(paths.TURN_SCORES_CSV),
    benchmark:
        timing(paths.TURN_SCORES_CSV)
    conda:
        "../envs/report.yaml"
    script:
        "../scripts/report/report_turns.py"


rule report_improvement:
    input:
        summaries=targets.evaluated(config, paths.SUMMARY),
    output:
        csv=report(paths.IMPROVEMENT_CSV, caption="../report/multilingual_improvement.rst", category="Tables"),
        figure=report(paths.IMPROVEMENT_FIGURE, caption="../report/multilingual_improvement.rst", category="Figures"),
    params:
        title=config["experiment"],
    log:
        log(paths.IMPROVEMENT_CSV),
    benchmark:
        timing(paths.IMPROVEMENT_CSV)
    conda:
        "../envs/report.yaml"
    script:
        "../scripts/report/report_improvement.py"


rule report_criteria_heatmap:
    input:
        summaries=targets.evaluated(config, paths.SUMMARY),
    output:
        figure=report(paths.CRITERIA_FIGURE, caption="../report/criteria_heatmap.rst", category="Figures"),
    params:
        title=config["experiment"],
    log:
        log(paths.CRITERIA_FIGURE),
    benchmark:
        timing(paths.CRITERIA_FIGURE)
    conda:
        "../envs/report.yaml"
    script:
        "../scripts/report/report_criteria_heatmap.py"


rule report_criteria_transfer:
    input:
        summaries=targets.evaluated(config, paths.SUMMARY),
    output:
        figure=report(
            paths.CRITERIA_TRANSFER_FIGURE, caption="../report/criteria_transfer.rst", category="Figures"
        ),
    params:
        title=config["experiment"],
        source=config["source_language"],
    log:
        log(paths.CRITERIA_TRANSFER_FIGURE),
    benchmark:
        timing(paths.CRITERIA_TRANSFER_FIGURE)
    conda:
        "../envs/report.yaml"
    script:
        "../scripts/report/report_criteria_transfer.py"


rule report_task_types:
    input:
        summaries=targets.evaluated(config, paths.SUMMARY),
    output:
        figure=report(paths.TASK_TYPE_FIGURE, caption="../report/task_types.rst", category="Figures"),
    params:
        title=config["experiment"],
        source=config["source_language"],
    log:
        log(paths.TASK_TYPE_FIGURE),
    benchmark:
        timing(paths.TASK_TYPE_FIGURE)
    conda:
        "../envs/report.yaml"
    script:
        "../scripts/report/report_task_types.py"


rule report_surface_by_lr:
    input:
        selections=targets.selections(config),
    output:
        figure=report(paths.SURFACE_BY_LR_FIGURE, caption="../report/surface_by_lr.rst", category="Figures"),
    params:
        title=config["experiment"],
    log:
        log(paths.SURFACE_BY_LR_FIGURE),
    benchmark:
        timing(paths.SURFACE_BY_LR_FIGURE)
    conda:
        "../envs/report.yaml"
    script:
        "../scripts/report/report_surface_by_lr.py"


rule report_pairwise:
    input:
        summaries=targets.pairs(config, paths.PAIR_SUMMARY),
    output:
        csv=report(paths.PAIRWISE_CSV, caption="../report/pairwise_table.rst", category="Pairwise"),
        markdown=report(paths.PAIRWISE_MD, caption="../report/pairwise_table.rst", category="Pairwise"),
        figure=report(paths.POSITION_BIAS_FIGURE, caption="../report/position_bias.rst", category="Pairwise"),
    params:
        title=config["experiment"],
    log:
        log(paths.PAIRWISE_CSV),
    benchmark:
        timing(paths.PAIRWISE_CSV)
    conda:
        "../envs/report.yaml"
    script:
        "../scripts/report/report_pairwise.py"


rule report_agreement:
    input:
        reports=targets.agreement(config),
    output:
        csv=report(paths.AGREEMENT_CSV, caption="../report/agreement.rst", category="Agreement"),
        markdown=report(paths.AGREEMENT_MD, caption="../report/agreement.rst", category="Agreement"),
        figure=report(paths.AGREEMENT_FIGURE, caption="../report/agreement.rst", category="Agreement"),
    params:
        title=config["experiment"],
        confidence=config["agreement"]["confidence"],
    log:
        log(paths.AGREEMENT_CSV),
    benchmark:
        timing(paths.AGREEMENT_CSV)
    conda:
        "../envs/report.yaml"
    script:
        "../scripts/report/report_agreement.py"


rule report_surface:
    input:
        surface=targets.evaluated_surface(config),
        summaries=targets.evaluated(config, paths.SUMMARY),
    output:
        csv=report(paths.SURFACE_CSV, caption="../report/surface.rst", category="Tables"),
        markdown=report(paths.SURFACE_MD, caption="../report/surface.rst", category="Tables"),
    params:
        title=config["experiment"],
    log:
        log(paths.SURFACE_CSV),
    benchmark:
        timing(paths.SURFACE_CSV)
    conda:
        "../envs/report.yaml"
    script:
        "../scripts/report/report_surface.py"


rule report_mt_lm_eval:
    input:
        unpack(lambda wc: targets.mt_lm_eval_scores(config)),
    output:
        mt_csv=report(paths.MT_CSV, caption="../report/mt_lm_eval.rst", category="MT and lm-eval"),
        mt_md=report(paths.MT_MD, caption="../report/mt_lm_eval.rst", category="MT and lm-eval"),
        table1_csv=report(paths.MT_TABLE1_CSV, caption="../report/mt_lm_eval.rst", category="MT and lm-eval"),
        table1_md=report(paths.MT_TABLE1_MD, caption="../report/mt_lm_eval.rst", category="MT and lm-eval"),
        lm_csv=report(paths.LM_EVAL_CSV, caption="../report/mt_lm_eval.rst", category="MT and lm-eval"),
        lm_md=report(paths.LM_EVAL_MD, caption="../report/mt_lm_eval.rst", category="MT and lm-eval"),
        figures=report(
            directory(paths.MT_LM_EVAL_FIGURES),
            patterns=["{name}.png"],
            caption="../report/mt_lm_eval.rst",
            category="MT and lm-eval",
        ),
    params:
        title=config["experiment"],
        pivots=mt_lm_eval.pivots(config),
    log:
        log(paths.MT_CSV),
    benchmark:
        timing(paths.MT_CSV)
    conda:
        "../envs/report.yaml"
    script:
        "../scripts/report/report_mt_lm_eval.py"


rule report_browse:
    input:
        responses=targets.evaluated(config, paths.RESPONSES),
        langid=targets.evaluated(config, paths.LANGID),
        judge=targets.evaluated_judged(config),
        pairwise=targets.pairs(config, paths.PAIRWISE),
        assets=browse.asset_files(),
    output:
        index=report(paths.BROWSE, caption="../report/browse.rst", category="Answer browser"),
        data=directory(paths.BROWSE_DATA),
    params:
        layout=browse.layout(config),
    log:
        log(paths.BROWSE),
    benchmark:
        timing(paths.BROWSE)
    conda:
        "../envs/report.yaml"
    script:
        "../scripts/report/report_browse.py"


rule all_report:
    input:
        [path for outputs in targets.report(config).values() for path in outputs],
