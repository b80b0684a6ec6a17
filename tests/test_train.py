"""Training on tiny random models: LoRA per model family, full fine-tuning (plain and DeepSpeed ZeRO-2/3),
budgets, checkpoint selection, preemption and resume, efficiency metrics, LR selection, LoRA merging."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import train_settings
from tiny_models import build_tiny_causal_lm

from polyinstruct.io import InputError, read_json, write_jsonl
from polyinstruct.models import loader
from polyinstruct.train import budget, counters, deepspeed_configs, efficiency, families, launch, selection, sweep

RECORDS = [
    {
        "id": f"r{i}",
        "lang": "en",
        "instruction": f"Repeat the word number {i}.",
        "input": "",
        "output": f"Word number {i}, repeated." + " Again." * (i % 7),
    }
    for i in range(40)
]
CORPUS = [r["instruction"] + " " + r["output"] for r in RECORDS]


settings = train_settings


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("data")
    write_jsonl(root / "train.jsonl", RECORDS[:32])
    write_jsonl(root / "valid.jsonl", RECORDS[32:])
    write_jsonl(root / "empty.jsonl", [])
    return {"train": root / "train.jsonl", "valid": root / "valid.jsonl", "empty": root / "empty.jsonl"}


@pytest.fixture(scope="module")
def pointer(tiny_llama, tmp_path_factory) -> dict:
    return loader.prepare("tiny", {"path": str(tiny_llama)}, tmp_path_factory.mktemp("prepared"))


def job(method, pointer, data, run_dir, lr=1e-2, seed=3, valid="valid", **overrides) -> dict:
    return launch.job_spec(method, pointer, data["train"], data[valid], run_dir, settings(**overrides), lr, seed, {})


def train(method, pointer, data, run_dir, processes=1, **overrides) -> dict:
    import torch

    torch.set_num_threads(1)
    return launch.run(job(method, pointer, data, run_dir, **overrides), processes)


# --- model families -------------------------------------------------------------------------------------------


def test_lora_presets_resolve_per_family():
    assert families.lora_targets("llama", "qkv") == ["q_proj", "k_proj", "v_proj"]
    assert families.lora_targets("qwen2", "attention") == ["q_proj", "k_proj", "v_proj", "o_proj"]
    assert families.lora_targets("gpt_neox", "qkv") == ["query_key_value"]
    assert families.lora_targets("bloom", "attention-mlp") == [
        "query_key_value",
        "dense",
        "dense_h_to_4h",
        "dense_4h_to_h",
    ]
    assert families.lora_targets("anything", "all-linear") == "all-linear"
    assert families.lora_targets("anything", ["c_attn"]) == ["c_attn"]
    with pytest.raises(InputError, match=r"train.lora.target_modules.*'gpt2'.*list the module names"):
        families.lora_targets("gpt2", "qkv")
    with pytest.raises(InputError, match="unknown preset 'qv'"):
        families.lora_targets("llama", "qv")


@pytest.mark.parametrize(
    "family,adapted",
    [
        ("llama", {"q_proj", "k_proj", "v_proj"}),
        ("mistral", {"q_proj", "k_proj", "v_proj"}),
        ("qwen2", {"q_proj", "k_proj", "v_proj"}),
        ("bloom", {"query_key_value"}),
        ("gpt_neox", {"query_key_value"}),
    ],
)
def test_lora_trains_each_family(family, adapted, data, tmp_path):
    model_dir = build_tiny_causal_lm(tmp_path / "model", CORPUS, family)
    pointer = loader.prepare(family, {"path": str(model_dir)}, tmp_path / "prepared")
    metrics = train("lora", pointer, data, tmp_path / "run", epochs=1)
    config = read_json(tmp_path / "run/weights/adapter_config.json")
    assert set(config["target_modules"]) == adapted
    assert metrics["steps"] == 4 and metrics["final_loss"] > 0
    tuned = loader.load_run_model(pointer, "lora", str(tmp_path / "run/weights"))
    lora_layers = {name.split(".")[-2] for name, _ in tuned.named_modules() if name.endswith("lora_A")}
    assert lora_layers == adapted


def test_padding_free_is_refused_for_bloom(data, tmp_path):
    model_dir = build_tiny_causal_lm(tmp_path / "model", CORPUS, "bloom")
    pointer = loader.prepare("bloom", {"path": str(model_dir)}, tmp_path / "prepared")
    with pytest.raises(InputError, match=r"train.batching.*'bloom'"):
        train("lora", pointer, data, tmp_path / "run", batching="packed")


# --- budgets and what a run saw ---------------------------------------------------------------------------------


def test_gradient_accumulation_holds_global_batch():
    assert budget.gradient_accumulation(128, 4, 8) == 4
    with pytest.raises(ValueError, match="train.global_batch_size"):
        budget.gradient_accumulation(100, 8, 1)


def test_budget_plan_prefers_tokens_then_steps_then_epochs():
    s = settings(epochs=3)
    assert budget.plan(s, 32, 1000) == {"kind": "epochs", "epochs": 3, "max_steps": -1}
    assert budget.plan({**s, "max_steps": 5}, 32, 1000) == {"kind": "steps", "epochs": 3, "max_steps": 5}
    # 2500 tokens at 1000 per epoch of 4 steps: 10 steps over 3 epochs
    assert budget.plan({**s, "max_steps": 5, "max_tokens": 2500}, 32, 1000) == {
        "kind": "tokens",
        "epochs": 3,
        "max_steps": 10,
    }


def test_batch_counts_padded_and_padding_free():
    import torch

    padded = {
        "input_ids": torch.zeros(2, 5, dtype=torch.long),
        "attention_mask": torch.tensor([[1] * 5, [1, 1, 0, 0, 0]]),
    }
    assert counters.batch_counts(padded) == (2, 7, 10)
    packed = {"input_ids": torch.zeros(1, 7, dtype=torch.long), "position_ids": torch.tensor([[0, 1, 2, 3, 4, 0, 1]])}
    assert counters.batch_counts(packed) == (2, 7, 7)


def test_steady_figures_leave_out_the_first_step(monkeypatch):
    import time

    import torch

    clock = iter([100.0, 105.0, 106.0, 107.0])  # training starts; step 1 ends after a slow start-up; steps 2, 3
    monkeypatch.setattr(time, "perf_counter", lambda: next(clock))
    run_counters = counters.Counters()
    run_counters.on_train_begin(None, None, None)
    assert run_counters.steady is None
    batch = {"input_ids": torch.zeros(2, 5, dtype=torch.long), "attention_mask": torch.ones(2, 5, dtype=torch.long)}
    for _ in range(3):
        run_counters.add(batch)
        run_counters.on_step_end(None, None, None)
    assert run_counters.totals == {"examples": 6, "tokens": 30, "slots": 30, "train_seconds": 7.0}
    assert run_counters.steady == {"examples": 4, "tokens": 20, "slots": 20, "train_seconds": 2.0}
    shape = {"params": 1_000_000_000, "layers": 16, "hidden": 2048}
    summary = efficiency.summary(run_counters.totals, shape, "full", 1, "NVIDIA H100 80GB HBM3", run_counters.steady)
    assert summary["tokens_per_second_per_device"] == round(30 / 7, 2)
    assert summary["steady_tokens_per_second_per_device"] == 10.0
    assert summary["steady_mfu"] == round(10 * summary["model_flops_per_token"] / 989e12, 4)
    assert efficiency.summary(run_counters.totals, shape, "full", 1, None)["steady_mfu"] is None


def test_lora_run_records_budget_selection_and_efficiency(pointer, data, tmp_path):
    metrics = train("lora", pointer, data, tmp_path / "run")
    assert metrics["steps"] == 8 and metrics["gradient_accumulation_steps"] == 2 and metrics["devices"] == 1
    assert metrics["examples_seen"] == 64 and metrics["train_examples"] == metrics["train_examples_used"] == 32
    assert metrics["tokens_seen"] == 2 * metrics["train_tokens_per_epoch"]  # every token, twice
    assert 0 < metrics["padding_share"] < 0.5 and metrics["token_slots"] > metrics["tokens_seen"]
    assert len(metrics["eval_losses"]) == 2 and metrics["best_eval_loss"] == min(metrics["eval_losses"])
    assert metrics["tokens_per_second"] > 0 and metrics["peak_rss_mib"] > 0 and metrics["mfu"] is None
    assert metrics["steady_tokens_per_second_per_device"] > 0 and metrics["steady_mfu"] is None  # no GPU peak
    assert metrics["budget"]["kind"] == "epochs" and metrics["resumed_from_step"] is None
    run = tmp_path / "run"
    assert read_json(run / "weights/adapter_config.json")["r"] == 4
    assert not (run / "checkpoints").exists() and not (run / ".best").exists()
    logged = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    assert sum("loss" in e for e in logged) == 8
    chosen = read_json(run / "checkpoints.json")
    assert chosen["mode"] == "best" and chosen["best_eval_loss"] == metrics["best_eval_loss"]


def test_examples_without_a_completion_after_truncation_are_counted(pointer, data, tmp_path):
    # 8 of 16 prompts are longer than max_length: truncation leaves them nothing to learn from
    long = [{**r, "instruction": r["instruction"] + " Repeat it." * 30} for r in RECORDS[:8]]
    write_jsonl(tmp_path / "mixed.jsonl", long + RECORDS[8:16])
    spec = launch.job_spec(
        "lora",
        pointer,
        tmp_path / "mixed.jsonl",
        data["valid"],
        tmp_path / "run",
        settings(epochs=1, max_length=48),
        1e-2,
        3,
        {},
    )
    metrics = launch.run(spec, 1)
    assert (metrics["train_examples"], metrics["train_examples_used"], metrics["train_examples_dropped"]) == (16, 8, 8)
    assert metrics["examples_seen"] == 8


def test_token_budget_stops_at_the_first_step_past_it(pointer, data, tmp_path):
    metrics = train("lora", pointer, data, tmp_path / "run", epochs=5, max_tokens=700)
    per_step = metrics["tokens_seen"] / metrics["steps"]
    assert metrics["budget"]["kind"] == "tokens"
    assert 700 <= metrics["tokens_seen"] < 700 + 2 * per_step
    assert metrics["steps"] < 5 * 4


def test_length_grouping_pads_less_than_plain_batches(pointer, data, tmp_path):
    # length-grouped batches are cut from the whole epoch sorted by length (train/batching.py): the least
    # padding batches of 2 can have, whatever order the batches then come in
    from polyinstruct.models import chat
    from polyinstruct.train import batching

    batch = dict(epochs=1, micro_batch_size=2, global_batch_size=2, max_length=128)
    grouped = train("lora", pointer, data, tmp_path / "grouped", **batch)
    plain = train("lora", pointer, data, tmp_path / "plain", batching="padded", **batch)
    packed = train("lora", pointer, data, tmp_path / "packed", batching="packed", **batch)
    assert grouped["tokens_seen"] == plain["tokens_seen"] == packed["tokens_seen"]
    assert grouped["examples_seen"] == plain["examples_seen"] == 32
    assert grouped["padding_share"] < plain["padding_share"]
    tokenizer = loader.load_tokenizer(pointer, padding_side="right")
    examples = [chat.training_example(r, "chat") for r in RECORDS[:32]]
    lengths = [len(tokenizer.apply_chat_template(e["prompt"] + e["completion"])) for e in examples]
    least = batching.padding_share(lengths, sorted(range(32), key=lengths.__getitem__), 2)
    assert grouped["padding_share"] == pytest.approx(least, abs=1e-4)
    assert packed["padding_share"] == 0 and packed["examples_seen"] == 32 and packed["steps"] < grouped["steps"]
    assert grouped["train_examples_used"] == packed["train_examples_used"] == 32


def test_padding_free_batch_has_the_padded_batch_loss(pointer):
    """Packed sequences must not attend to each other: same loss as the padded batch (without a KV cache, as
    TRL's compute_loss calls the model; with one, transformers does not look for packed sequences)."""
    import torch
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    tokenizer = loader.load_tokenizer(pointer, padding_side="right")
    model = loader.load_causal_lm(pointer)
    examples = [{"input_ids": tokenizer(text)["input_ids"]} for text in CORPUS[:4]]
    padded = DataCollatorForLanguageModeling(pad_token_id=tokenizer.pad_token_id)(examples)
    packed = DataCollatorForLanguageModeling(pad_token_id=tokenizer.pad_token_id, padding_free=True)(examples)
    with torch.no_grad():
        a = model(**padded).loss
        b = model(
            input_ids=packed["input_ids"], position_ids=packed["position_ids"], labels=packed["labels"], use_cache=False
        ).loss
    assert torch.allclose(a, b, atol=1e-5)


# --- checkpoint selection --------------------------------------------------------------------------------------


def test_improved_is_strict():
    assert selection.improved([{"eval_loss": 2.0}])
    assert selection.improved([{"eval_loss": 2.0}, {"loss": 9}, {"eval_loss": 1.5}])
    assert not selection.improved([{"eval_loss": 1.5}, {"eval_loss": 1.5}])
    assert not selection.improved([{"loss": 1.0}])


def test_every_epoch_keeps_epochs_and_uses_the_best(pointer, data, tmp_path):
    metrics = train("lora", pointer, data, tmp_path / "run", epochs=3, lr=5e-2, checkpoint_selection="every-epoch")
    run = tmp_path / "run"
    chosen = read_json(run / "checkpoints.json")
    assert chosen["kept_epochs"] == ["epoch-1", "epoch-2", "epoch-3"]
    best = min(chosen["evaluations"], key=lambda e: e["eval_loss"])
    assert chosen["source"] == f"epochs/epoch-{round(best['epoch'])}" and metrics["kept_step"] == best["step"]
    kept = (run / chosen["source"] / "adapter_model.safetensors").read_bytes()
    assert (run / "weights/adapter_model.safetensors").read_bytes() == kept


def test_last_and_best_keep_different_weights_when_loss_rises(pointer, data, tmp_path):
    # a learning rate this high overshoots: validation loss is lowest before the end
    overrides = dict(epochs=4, lr=3.0, eval_every_steps=2)
    best = train("lora", pointer, data, tmp_path / "best", **overrides)
    last = train("lora", pointer, data, tmp_path / "last", checkpoint_selection="last", **overrides)
    # same evaluations in both runs; transformers 5 overshoots to NaN at this rate (NaN never counts as better)
    assert json.dumps(best["eval_losses"]) == json.dumps(last["eval_losses"])
    losses = best["eval_losses"]
    assert best["kept_step"] == 2 * (losses.index(min(losses)) + 1) < best["steps"] == last["kept_step"]
    best_w = (tmp_path / "best/weights/adapter_model.safetensors").read_bytes()
    assert best_w != (tmp_path / "last/weights/adapter_model.safetensors").read_bytes()


def test_no_validation_data_keeps_the_last_weights(pointer, data, tmp_path):
    metrics = train("lora", pointer, data, tmp_path / "run", valid="empty", epochs=1)
    assert metrics["best_eval_loss"] is None and metrics["kept_step"] == metrics["steps"]
    assert "no validation data" in read_json(tmp_path / "run/checkpoints.json")["reason"]


# --- preemption and resume -------------------------------------------------------------------------------------

RESUMABLE = """
import json, sys
import torch
torch.set_num_threads(1)
from polyinstruct.io import read_json
from polyinstruct.train import launch
print("METRICS", json.dumps(launch.run(read_json(sys.argv[1]), 1)), flush=True)
"""


def _start(spec: dict, path: Path) -> subprocess.Popen:
    path.write_text(json.dumps(spec))
    return subprocess.Popen(
        [sys.executable, "-c", RESUMABLE, str(path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _metrics(output: str) -> dict:
    return json.loads(output.split("METRICS ", 1)[1].splitlines()[0])


def test_sigterm_saves_and_a_rerun_resumes_to_the_same_result(pointer, data, tmp_path):
    overrides = dict(
        global_batch_size=4,
        micro_batch_size=2,
        epochs=3,
        save_every_steps=2,
        lr_scheduler="cosine",
        warmup_ratio=0.1,
        lora=dict(r=4, alpha=8, dropout=0.1, target_modules="qkv"),
    )
    whole = _start(job("lora", pointer, data, tmp_path / "whole", **overrides), tmp_path / "whole.json")
    out, _ = whole.communicate(timeout=600)
    assert whole.returncode == 0, out
    uninterrupted = _metrics(out)

    run = tmp_path / "killed"
    spec = job("lora", pointer, data, run, **overrides)
    first = _start(spec, tmp_path / "killed.json")
    deadline = time.time() + 300
    while not (run / "checkpoints/checkpoint-4").exists():
        assert first.poll() is None and time.time() < deadline, "training ended before it could be interrupted"
        time.sleep(0.01)
    first.send_signal(signal.SIGTERM)
    out, _ = first.communicate(timeout=300)
    assert first.returncode != 0 and "Preempted: stopped by signal 15" in out
    saved = sorted(int(p.name.split("-")[1]) for p in (run / "checkpoints").glob("checkpoint-*"))
    assert saved and 4 <= saved[-1] < uninterrupted["steps"]
    assert not (run / "metrics.json").exists()

    second = _start(spec, tmp_path / "killed.json")
    out, _ = second.communicate(timeout=600)
    assert second.returncode == 0, out
    resumed = _metrics(out)
    assert resumed["resumed_from_step"] == saved[-1]
    for key in (
        "steps",
        "final_loss",
        "train_loss",
        "eval_losses",
        "best_eval_loss",
        "examples_seen",
        "tokens_seen",
        "token_slots",
        "kept_step",
    ):
        assert resumed[key] == uninterrupted[key], key
    assert (run / "weights/adapter_model.safetensors").read_bytes() == (
        tmp_path / "whole/weights/adapter_model.safetensors"
    ).read_bytes()


def test_checkpoints_of_another_configuration_are_not_resumed(pointer, data, tmp_path):
    from polyinstruct.train import preemption

    run = tmp_path / "run"
    (run / "checkpoints/checkpoint-3").mkdir(parents=True)
    preemption.mark(run / "checkpoints", "old-fingerprint", {})
    assert preemption.resume_point(run / "checkpoints", "new-fingerprint") is None
    assert not (run / "checkpoints").exists()
    for step in (3, 5, 6):
        (run / f"checkpoints/checkpoint-{step}").mkdir(parents=True)
        (run / f"checkpoints/checkpoint-{step}/trainer_state.json").write_text("{}")
        if step != 6:  # checkpoint-6 was being written when the job was killed: no counters.json yet
            (run / f"checkpoints/checkpoint-{step}/counters.json").write_text("{}")
    preemption.mark(run / "checkpoints", "same", {})
    assert preemption.resume_point(run / "checkpoints", "same").endswith("checkpoint-5")
    a = job("lora", pointer, data, run)
    assert a["fingerprint"] == job("lora", pointer, data, tmp_path / "elsewhere")["fingerprint"]
    assert a["fingerprint"] != job("lora", pointer, data, run, lr=2e-2)["fingerprint"]
    assert a["fingerprint"] != job("lora", pointer, data, run, seed=4)["fingerprint"]


# --- full fine-tuning ------------------------------------------------------------------------------------------


def _changes_outputs(pointer, method, weights) -> bool:
    import torch

    ids = torch.tensor([[1, 5, 9, 12]])
    with torch.no_grad():
        tuned = loader.load_run_model(pointer, method, str(weights))(ids).logits
        base = loader.load_causal_lm(pointer)(ids).logits
    return not torch.allclose(tuned, base)


def test_full_fine_tuning_without_deepspeed(pointer, data, tmp_path):
    metrics = train("full", pointer, data, tmp_path / "run", lr=1e-3, epochs=1, gradient_checkpointing=True)
    assert metrics["method"] == "full" and metrics["deepspeed"] is None and metrics["steps"] == 4
    assert metrics["trainable_parameters"] > 20_000  # every weight, not an adapter
    assert (tmp_path / "run/weights/config.json").exists() and (tmp_path / "run/weights/tokenizer.json").exists()
    assert _changes_outputs(pointer, "full", tmp_path / "run/weights")


@pytest.mark.parametrize("stage,processes", [("zero2", 1), ("zero3", 2)])
def test_full_fine_tuning_with_deepspeed_on_cpu(stage, processes, pointer, data, tmp_path):
    """DeepSpeed runs on the CPU accelerator (gloo) under torchrun; ZeRO-3 with two processes shards the
    weights, and the saved model is gathered whole."""
    metrics = train(
        "full",
        pointer,
        data,
        tmp_path / "run",
        processes=processes,
        lr=1e-3,
        epochs=1,
        deepspeed=stage,
        checkpoint_selection="last",
    )
    assert metrics["deepspeed"].endswith(f"resources/deepspeed/{stage}.json")
    assert metrics["devices"] == processes and metrics["gradient_accumulation_steps"] == 2 // processes
    assert metrics["examples_seen"] == 32 and metrics["steps"] == 4
    assert not (tmp_path / "run/job.json").exists()
    assert _changes_outputs(pointer, "full", tmp_path / "run/weights")


def test_deepspeed_config_names_and_paths(tmp_path):
    assert deepspeed_configs.resolve(None) is None
    assert json.loads(Path(deepspeed_configs.resolve("zero3")).read_text())["zero_optimization"]["stage"] == 3
    custom = tmp_path / "ds.json"
    custom.write_text('{"zero_optimization": {"stage": 1}}')
    assert deepspeed_configs.resolve(str(custom)) == str(custom.resolve())
    with pytest.raises(InputError, match="train.full.deepspeed.*'zero4'"):
        deepspeed_configs.resolve("zero4")
    custom.write_text("{not json")
    with pytest.raises(InputError, match="ds.json: not valid JSON"):
        deepspeed_configs.resolve(str(custom))


def test_torchrun_command_starts_one_worker_per_gpu(tmp_path):
    command = launch.torchrun_command(tmp_path / "job.json", 4)
    assert command[1:6] == ["-m", "torch.distributed.run", "--standalone", "--nproc-per-node=4", "-m"]
    assert command[-2:] == ["polyinstruct.train.worker", str(tmp_path / "job.json")]
    assert launch.needs_launcher({"deepspeed": "x.json"}, 1) and launch.needs_launcher({}, 2)
    assert not launch.needs_launcher({"deepspeed": None}, 1)


# --- efficiency --------------------------------------------------------------------------------------------------


def test_mfu_against_the_device_peak():
    assert efficiency.peak_flops("NVIDIA H100 80GB HBM3") == 989e12
    assert efficiency.peak_flops("NVIDIA H100 PCIe") == 756e12
    assert efficiency.peak_flops("NVIDIA A100-SXM4-80GB") == 312e12
    assert efficiency.peak_flops("Some CPU") is None
    per_token = efficiency.flops_per_token(1_000_000_000, 16, 2048, 1024, "full")
    assert per_token == 6e9 + 12 * 16 * 2048 * 1024
    assert efficiency.flops_per_token(1e9, 16, 2048, 0, "lora") == 4e9
    assert efficiency.mfu(10_000, per_token, 989e12) == pytest.approx(10_000 * per_token / 989e12)


# --- learning-rate selection and merged weights ----------------------------------------------------------------


def test_lr_selection_by_validation_loss_and_by_language_id(tmp_path):
    candidates = [
        {"lr": "0.0001", "best_eval_loss": 2.0, "langid_correct": 0.5},
        {"lr": "0.001", "best_eval_loss": 1.5, "langid_correct": 0.4},
        {"lr": "0.01", "best_eval_loss": 3.0, "langid_correct": 0.5},
    ]
    assert sweep.select("valid_loss", candidates)["selected_lr"] == "0.001"
    assert sweep.select("langid", candidates)["selected_lr"] == "0.0001"  # tie on langid: lower loss wins
    with pytest.raises(InputError, match="valid_fraction"):
        sweep.select("valid_loss", [{"lr": "0.1", "best_eval_loss": None}])
    write_jsonl(tmp_path / "fr.jsonl", [{"correct": True}, {"correct": False}])
    write_jsonl(tmp_path / "de.jsonl", [{"correct": True}])
    assert sweep.langid_correct([tmp_path / "fr.jsonl", tmp_path / "de.jsonl"]) == 0.75


def test_merged_lora_equals_base_plus_adapter(pointer, data, tmp_path):
    import torch

    from polyinstruct.train import merge

    train("lora", pointer, data, tmp_path / "run", epochs=1, lr=5e-2)
    merged_dir = merge.merge_lora(pointer, tmp_path / "run/weights", tmp_path / "run/merged")
    ids = torch.tensor([[1, 5, 9, 12, 3]])
    with torch.no_grad():
        adapted = loader.load_run_model(pointer, "lora", str(tmp_path / "run/weights"))(ids).logits
        merged = loader.load_run_model(pointer, "full", str(merged_dir))(ids).logits
    assert torch.allclose(adapted, merged, atol=1e-5)
    assert not list(merged_dir.glob("adapter_*"))
