"""lm-evaluation-harness tasks per language, on base models, LoRA adapters (peft=) and merged models.

BayLing 2 reports Belebele, XNLI, multilingual HellaSwag and ARC zero-shot. Task names in config hold
{lang} / {flores} placeholders (`belebele_{flores}`, `xnli_{lang}`) that expand over languages. For
offline use, a local task directory is written the lm-eval way: one template YAML and a five-line
stub per language that `include:`s it (as lm-eval's own `tasks/belebele/_generate_configs.py` does),
over local JSON files (`dataset_path: json`).

    python -m polyinstruct.lm_eval.lm_tasks TEMPLATE OUT_DIR PREFIX DATA_PATTERN LANG...
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import yaml

from polyinstruct import languages

TEMPLATE_NAME = "_default_template_yaml"


def expand(tasks: list[str], langs: list[str]) -> list[str]:
    """Task names with {lang} / {flores} expanded over `langs` (names without placeholders kept once)."""
    out = []
    for task in tasks:
        if "{lang}" in task or "{flores}" in task:
            for lang in langs:
                flores = languages.get(lang).flores
                if "{flores}" in task and flores is None:
                    raise ValueError(f"config key 'lm_eval.tasks': '{task}' needs a FLORES code, and '{lang}' has none")
                out.append(task.format(lang=lang, flores=flores))
        else:
            out.append(task)
    return list(dict.fromkeys(out))


def write_stubs(
    template: str | Path, out_dir: str | Path, prefix: str, data_pattern: str, langs: list[str], split: str = "test"
) -> list[str]:
    """Copy the template into `out_dir` and write `<prefix>_<flores>.yaml` per language plus a group file.

    `data_pattern` is the JSON file of one language, with {lang} and/or {flores}. Returns the task names.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, out_dir / TEMPLATE_NAME)
    names = []
    for lang in langs:
        flores = languages.get(lang).flores
        name = f"{prefix}_{flores}"
        stub = {
            "include": TEMPLATE_NAME,
            "task": name,
            "test_split": split,
            "dataset_kwargs": {"data_files": {split: str(data_pattern).format(lang=lang, flores=flores)}},
        }
        (out_dir / f"{name}.yaml").write_text(yaml.safe_dump(stub, sort_keys=False), encoding="utf-8")
        names.append(name)
    group = {
        "group": prefix,
        "task": names,
        "aggregate_metric_list": [{"metric": "acc", "aggregation": "mean", "weight_by_size": False}],
    }
    (out_dir / f"_{prefix}.yaml").write_text(yaml.safe_dump(group, sort_keys=False), encoding="utf-8")
    return names


def model_args(pointer: dict, method: str, weights: str | None) -> dict[str, str]:
    """lm-eval `hf` model arguments of a run: the base model, base + `peft=` adapter, or tuned weights."""
    load = pointer["load"]
    args = {"pretrained": str(load["pretrained_model_name_or_path"])}
    if load.get("revision"):
        args["revision"] = load["revision"]
    if load.get("gguf_file"):
        args["gguf_file"] = load["gguf_file"]
    if method == "lora" and weights and not str(weights).rstrip("/").endswith("merged"):
        args["peft"] = str(weights)
    elif method != "base" and weights:
        args = {"pretrained": str(weights)}
    return args


def evaluate(task: str, args: dict[str, str], settings: dict, seed: int) -> dict:
    """One task through `lm_eval.simple_evaluate`; returns the JSON-able results (samples left out)."""
    import lm_eval
    from lm_eval.tasks import TaskManager
    from lm_eval.utils import handle_non_serializable

    manager = TaskManager(include_path=settings["include_path"]) if settings["include_path"] else TaskManager()
    results = lm_eval.simple_evaluate(
        model="hf",
        model_args=args,
        tasks=[task],
        num_fewshot=settings["num_fewshot"],
        batch_size=settings["batch_size"],
        limit=settings["limit"],
        task_manager=manager,
        log_samples=False,
        random_seed=seed,
        numpy_random_seed=seed,
        torch_random_seed=seed,
        fewshot_random_seed=seed,
        device=_device(),
    )
    results.pop("samples", None)
    return json.loads(json.dumps(results, default=handle_non_serializable))


def _device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def main(argv: list[str]) -> None:
    template, out_dir, prefix, data_pattern, *langs = argv
    for name in write_stubs(template, out_dir, prefix, data_pattern, langs):
        print(name)


if __name__ == "__main__":
    main(sys.argv[1:])
