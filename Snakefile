# polyinstruct: translate -> mixtures -> fine-tune -> generate -> score -> report.
# Plan:  snakemake -n            Run:  snakemake --cores all      Cluster: snakemake --workflow-profile slurm
from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/external.smk"
include: "rules/data.smk"
include: "rules/translate.smk"
include: "rules/mixtures.smk"
include: "rules/models.smk"
include: "rules/train.smk"
include: "rules/generate.smk"
include: "rules/score.smk"
include: "rules/benchmarks.smk"
include: "rules/report.smk"
include: "rules/cluster.smk"


rule all:
    input:
        all_targets(),
    default_target: True
