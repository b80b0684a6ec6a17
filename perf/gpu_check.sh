#!/usr/bin/env bash
# One GPU loan, one call: install the carried wheels, measure the bf16 peak, train a ~1.1B Llama through the
# recipe (LoRA and full x padded, length-grouped, packed: tokens/s and MFU), run the tiny experiment through
# Snakemake on CUDA (train -> generate -> score), batched generation against one call per prompt, DeepSpeed
# ZeRO-2, COMET; each step in its own process under `timeout`, all of it inside 9 minutes. Results:
# OUT_DIR/gpu_check.json, OUT_DIR/gpu_check.md (also printed), OUT_DIR/gpu_check.log, OUT_DIR/workflow_logs.tar.gz.
#
#   bash perf/gpu_check.sh OUT_DIR              # on the GPU machine, wheels-gpu/ carried (make gpu-wheels)
#   bash perf/gpu_check.sh OUT_DIR --dry-run    # here, on the CPU, tiny sizes, nothing installed
#
# Device tool: run(command="bash perf/gpu_check.sh $OUT", carry=["wheels-gpu"], timeout_s=600).
# Environment: PYTHON (default python3; the project's .venv/bin/python in a dry run when it exists),
# GPU_CHECK_WORK (scratch folder, default a new one under /tmp). Exit status 0 when no step failed.
set -u -o pipefail

if [ $# -lt 1 ]; then
    echo "usage: bash perf/gpu_check.sh OUT_DIR [--dry-run]" >&2
    exit 2
fi
OUT=$1
DRY=""
[ "${2:-}" = "--dry-run" ] && DRY="--dry-run"
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${PYTHON:-}" ]; then
    PYTHON=python3
    [ -n "$DRY" ] && [ -x "$REPO/.venv/bin/python" ] && PYTHON="$REPO/.venv/bin/python"
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=${GPU_CHECK_WORK:-$(mktemp -d /tmp/gpu-check.XXXXXX)}
mkdir -p "$WORK/steps" "$WORK/site" "$WORK/comet-site"
LOG="$OUT/gpu_check.log"
: >"$LOG"

# the carried wheels (installed by the first step) come after the repository and before the image's packages
export PYTHONPATH="$REPO:$WORK/site${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export HF_HOME="$WORK/hf-home" TRITON_CACHE_DIR="$WORK/triton" TORCH_EXTENSIONS_DIR="$WORK/torch-extensions"
export MPLCONFIGDIR="$WORK/matplotlib"

say() { echo "$*" | tee -a "$LOG"; }

plan=$("$PYTHON" "$REPO/perf/gpu_check.py" plan $DRY) || { say "cannot read the plan with $PYTHON"; exit 1; }
read -r _ total reserve <<<"$(echo "$plan" | head -1)"
say "gpu check: $(date -u '+%F %T UTC'), python $PYTHON, work $WORK, out $OUT, budget ${total}s ${DRY:+(dry run)}"
start=$SECONDS
while read -r step box later; do
    # everything left but the boxes of the steps after this one (at least its own box when on time)
    limit=$((total - reserve - (SECONDS - start) - later))
    if [ "$limit" -lt 5 ]; then
        echo "-1 0" >"$WORK/steps/$step.rc"
        say "== $step: skipped, no time left"
        continue
    fi
    path=$PYTHONPATH
    [ "$step" = comet ] && path="$WORK/comet-site:$PYTHONPATH"  # COMET's own transformers 4 stack first
    say "== $step (time box ${limit}s, its own ${box}s; $((SECONDS - start))s elapsed)"
    PYTHONPATH="$path" timeout --kill-after=10 "$limit" \
        "$PYTHON" "$REPO/perf/gpu_check.py" "$step" --work "$WORK" --out "$OUT" $DRY 2>&1 | tee -a "$LOG" |
        grep -E '^\[[a-z]+\] (PASS|FAIL|SKIP)|Error|error:' | tail -n 5
    rc=${PIPESTATUS[0]}
    echo "$rc $limit" >"$WORK/steps/$step.rc"
    [ "$rc" = 124 ] || [ "$rc" = 137 ] && say "   $step: timed out after ${limit}s"
done < <(echo "$plan" | tail -n +2)
say "== report ($((SECONDS - start))s elapsed)"
"$PYTHON" "$REPO/perf/gpu_check.py" report --work "$WORK" --out "$OUT" $DRY 2>&1 | tee -a "$LOG"
status=${PIPESTATUS[0]}
say "gpu check finished in $((SECONDS - start))s, status $status"
exit "$status"
