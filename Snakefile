# polyinstruct: translate -> mixtures -> fine-tune -> generate -> score -> report.
# Plan:  snakemake -n            Run:  snakemake --cores all      Cluster: snakemake --profile slurm
# A stage is rules/<stage>.smk -> scripts/<stage>/ -> polyinstruct/<stage>/.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/translate.smk"
include: "rules/mixtures.smk"
include: "rules/models.smk"
include: "rules/train.smk"
include: "rules/generate.smk"
include: "rules/score.smk"
include: "rules/mt.smk"
include: "rules/lm_eval.smk"
include: "rules/report.smk"
include: "rules/cluster.smk"


rule all:
    input:
        targets.all_targets(config),
    default_target: True


# Every rule's params.code: a hash of the package modules its script imports (workflow/fingerprint.py).
add_code_params(workflow)
# Each input/params function's signature is read once here, not by Snakemake for every job (workflow/signatures.py).
pin_signatures(workflow)
# Snakemake's source cache parses each script's path once, not three times per job (workflow/script_sources.py).
script_sources.parse_each_path_once()
# Python's garbage collector looks rarely while Snakemake plans, and as usual once jobs run (workflow/collector.py).
collector.for_planning()


onstart:
    collector.for_running()
