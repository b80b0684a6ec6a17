# lm-evaluation-harness tasks of every run (BayLing 2; polyinstruct/lm_eval/): base, `peft=` adapter,
# merged or full weights. Planned only when lm_eval.tasks are configured.


rule lm_eval:
    input:
        unpack(lambda wc: inputs.lm_eval(config, wc)),
    output:
        results=paths.LM_EVAL,
    params:
        run=inputs.run_info,
        settings=config["lm_eval"],
        seed=config["seed"],
    log:
        log(paths.LM_EVAL),
    benchmark:
        timing(paths.LM_EVAL)
    conda:
        "../envs/lm_eval.yaml"
    threads: 1
    resources:
        gpu=1,
        mem_mb=16000,
        runtime=120,
    script:
        "../scripts/lm_eval/lm_eval.py"


rule all_lm_eval:
    input:
        targets.lm_eval(config),
