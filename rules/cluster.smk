# Cluster execution (profiles/slurm/; polyinstruct/cluster/): what runs on the login node, and a GPU smoke test.

# Downloads run where the network is: hub models (prepare_model), hub datasets (normalise_*), MT models
# for CTranslate2, configured URLs. Compute jobs then run with the hub offline (the profile's precommand).
localrules:
    prepare_model,
    normalise_instructions,
    normalise_eval,
    convert_ct2_mt,
    fetch_url,
    extract_member,


# `snakemake --profile slurm results/cluster/gpu_smoke/2gpu.json` before a long run: one process per
# granted GPU (torchrun), each joins the process group; fails naming the request to fix when the job
# sees other GPUs, ranks or world size than it asked for. Runs on CPU too (0gpu: one process, gloo).
rule gpu_smoke:
    output:
        report=paths.GPU_SMOKE,
    params:
        gpus=lambda wc: int(wc.gpus),
    wildcard_constraints:
        gpus=r"\d+",
    log:
        log(paths.GPU_SMOKE),
    benchmark:
        timing(paths.GPU_SMOKE)
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        gpu=lambda wc: int(wc.gpus),
        runtime=10,
    script:
        "../scripts/cluster/gpu_smoke.py"
