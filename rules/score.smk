# Scores per (run, eval set, language): language ID, LLM judge, and their combination.


rule langid_responses:
    input:
        responses="results/generate/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.jsonl",
    output:
        scores="results/score/langid/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.jsonl",
    params:
        langid=config["score"]["langid"],
        code=fingerprint("langid"),
    log:
        "logs/score/langid/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.log",
    benchmark:
        "benchmarks/score/langid/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/langid_responses.py"


rule judge_single:
    input:
        responses="results/generate/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.jsonl",
        judge_model=f"results/models/{JUDGE_MODEL}/model.json",
        template=config["score"]["judge"]["template"],
    output:
        scores="results/score/judge/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.jsonl",
    params:
        judge=config["score"]["judge"],
        code=fingerprint("judge"),
    log:
        "logs/score/judge/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.log",
    benchmark:
        "benchmarks/score/judge/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.tsv"
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        gpu=1,
        mem_mb=16000,
        runtime=120,
    script:
        "../scripts/judge_single.py"


rule summarise_scores:
    input:
        langid="results/score/langid/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.jsonl",
        judge="results/score/judge/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.jsonl",
    output:
        rows="results/score/summary/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.jsonl",
        summary="results/score/summary/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.json",
    params:
        run=run_info,
        code=fingerprint("score"),
    log:
        "logs/score/summary/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.log",
    benchmark:
        "benchmarks/score/summary/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/summarise_scores.py"


rule all_score:
    input:
        eval_targets("results/score/summary/{model}/{method}/{dataset}/{mixture}/{lr}/{evalset}/{lang}.json"),
