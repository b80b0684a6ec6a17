"""Per-stage fingerprints of the package code.

Snakemake's `code` trigger only sees the rule's script, not the package it imports, so every
rule passes `params: code=fingerprint(<stage>)`. Editing the judge changes the `score`
fingerprint only, and so re-runs scoring, not training.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent

# The modules each stage imports (directly or through another module listed here).
STAGE_MODULES: dict[str, tuple[str, ...]] = {
    "data": ("io.py", "records.py", "data.py", "languages.py", "evalsets.py", "modifiers.py"),
    "translate": ("io.py", "records.py", "translate", "langid.py", "languages.py", "assets.py", "models.py",
                  "chat.py", "generate.py"),
    "mixtures": ("io.py", "records.py", "mixtures.py", "languages.py"),
    "models": ("io.py", "assets.py", "models.py"),
    "train": ("io.py", "records.py", "models.py", "chat.py", "grid.py", "train"),
    "generate": ("io.py", "models.py", "chat.py", "generate.py", "grid.py", "train/sweep.py", "evalsets.py",
                 "modifiers.py", "languages.py", "vllm_engine.py"),
    "langid": ("io.py", "langid.py", "languages.py", "assets.py"),
    "judge": ("io.py", "models.py", "chat.py", "generate.py", "judge", "languages.py", "evalsets.py", "modifiers.py",
              "vllm_engine.py"),
    "score": ("io.py", "scores.py", "gating.py", "langid.py", "languages.py", "judge/criteria.py", "judge/pairwise.py",
              "judge/single.py", "judge/templates.py", "judge/backend.py", "judge/cache.py", "judge/ledger.py"),
    "surface": ("io.py", "surface.py", "spelling.py", "modifiers.py", "langid.py", "languages.py"),
    "agreement": ("io.py", "agreement.py"),
    "report": ("io.py", "report.py", "report_figures.py", "significance.py", "benchmark_report.py", "languages.py",
               "scores.py", "judge/criteria.py"),
    "cluster": ("cluster.py",),
    "crosslingual": ("io.py", "crosslingual.py", "languages.py"),
    "mt_eval": ("io.py", "mt_eval.py", "crosslingual.py", "chat.py", "languages.py"),
    "mt_translate": ("io.py", "mt_eval.py", "crosslingual.py", "chat.py", "languages.py", "models.py", "generate.py",
                     "evalsets.py", "train/sweep.py", "vllm_engine.py"),
    "comet": ("io.py", "comet_score.py", "crosslingual.py"),
    "lm_eval": ("io.py", "lm_tasks.py", "languages.py", "models.py", "train/sweep.py"),
}


def _files(entry: str) -> list[Path]:
    path = PACKAGE_DIR / entry
    return sorted(path.rglob("*.py")) if path.is_dir() else [path]


def fingerprint(stage: str) -> str:
    """A short hash of the source of every module the stage uses."""
    digest = hashlib.sha256()
    for entry in STAGE_MODULES[stage]:
        for file in _files(entry):
            digest.update(file.relative_to(PACKAGE_DIR).as_posix().encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]
