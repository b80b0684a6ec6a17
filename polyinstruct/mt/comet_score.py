"""COMET scores through unbabel-comet, loaded and run the way its `comet-score` command line does.

A model is a name unbabel-comet downloads (`Unbabel/wmt22-comet-da`) or a local `.../checkpoints/model.ckpt`
(with `hparams.yaml` two levels up, naming a local encoder directory for offline use). Like
`comet-score`, the model is put in eval mode and half precision before predicting, so the system score
equals the command line's on the same files.
"""

from __future__ import annotations

import os


def load(model: str):
    from comet import download_model, load_from_checkpoint

    path = model if model.endswith(".ckpt") and os.path.exists(model) else download_model(model)
    comet_model = load_from_checkpoint(path)
    comet_model.eval()
    comet_model.half()
    return comet_model


def score(
    model: str, sources: list[str], hypotheses: list[str], references: list[str], *, batch_size: int, gpus: int
) -> dict:
    """System and segment scores of one system's translations."""
    import torch

    comet_model = load(model)
    gpus = gpus if torch.cuda.is_available() else 0
    samples = [{"src": s, "mt": h, "ref": r} for s, h, r in zip(sources, hypotheses, references)]
    output = comet_model.predict(samples=samples, batch_size=batch_size, gpus=gpus, progress_bar=False, num_workers=1)
    return {
        "model": model,
        "system_score": float(output.system_score),
        "scores": [float(s) for s in output.scores],
        "segments": len(samples),
    }
