"""The layout contract: one place per fact, derived fingerprints, registries, no import cycles.

A stage is rules/<stage>.smk -> scripts/<stage>/ -> polyinstruct/<stage>/; every output path comes from
polyinstruct/workflow/paths.py; every job family from targets.py; every rule's params.code from the
import closure of its script.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from polyinstruct.score.judge import protocols
from polyinstruct.translate import registry
from polyinstruct.workflow import collector, fingerprint, paths, targets

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "polyinstruct"


def _pattern(output) -> str:
    """An output pattern without the wildcard constraints Snakemake writes into it."""
    return re.sub(r"\{(\w+),[^{}]*\}", r"{\1}", str(output))


@pytest.fixture(scope="module")
def workflow_rules():
    """{rule name: Snakemake rule} of the default config's workflow, loaded through Snakemake's API."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import ConfigSettings, ResourceSettings, StorageSettings

    with SnakemakeApi() as api:
        wf = api.workflow(
            resource_settings=ResourceSettings(),
            config_settings=ConfigSettings(),
            storage_settings=StorageSettings(),
            snakefile=REPO / "Snakefile",
            workdir=REPO,
        )
        rules = {rule.name: rule for rule in wf._workflow.rules}
    collector.for_running()  # parsing the Snakefile tuned this process's garbage collector for planning
    return rules


def test_every_stage_is_one_hop_each_way(workflow_rules):
    for name, rule in workflow_rules.items():
        stage = Path(rule.snakefile).stem if Path(rule.snakefile).suffix == ".smk" else "workflow"
        assert targets.RULE_STAGES[name] == stage, name
        if rule.script:
            script = (Path(rule.snakefile).parent / rule.script).resolve()
            assert script.parent == REPO / "scripts" / stage, f"rule {name}: {rule.script} is not in scripts/{stage}/"
    assert set(targets.RULE_STAGES) == set(workflow_rules)
    stages = {p.stem for p in (REPO / "rules").glob("*.smk")} - {"common"}
    assert stages == {p.name for p in (REPO / "scripts").iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert stages <= {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}


def test_every_rule_logs_times_and_fingerprints_its_code(workflow_rules):
    for name, rule in workflow_rules.items():
        if not rule.script:
            continue
        assert rule.log and rule.benchmark, name
        script = (Path(rule.snakefile).parent / rule.script).resolve()
        assert rule.params["code"] == fingerprint.fingerprint(script), name
        # outputs, logs and timings follow paths.py: logs/ mirrors results/ with the first output's stem
        first = _pattern(rule.output[0])
        assert first.startswith("results/"), name
        assert _pattern(rule.log[0]) == paths.log(first.removesuffix("/" + paths.CT2_MODEL)) or name == "train", name


def test_outputs_come_from_the_paths_module(workflow_rules):
    declared = {value for name, value in vars(paths).items() if name.isupper() and isinstance(value, str)}
    for name, rule in workflow_rules.items():
        for output in rule.output:
            pattern = _pattern(output)
            assert pattern in declared or pattern.removesuffix("/" + paths.CT2_MODEL) in declared, (name, pattern)


def test_fingerprint_closure_follows_imports_lazy_imports_and_registry_strings():
    normalise_eval = fingerprint.closure(REPO / "scripts/data/normalise_eval.py")
    assert PACKAGE / "data/modifiers.py" in normalise_eval and PACKAGE / "data/evalsets.py" in normalise_eval
    assert PACKAGE / "__init__.py" in normalise_eval and PACKAGE / "data/__init__.py" in normalise_eval
    train = fingerprint.closure(REPO / "scripts/train/train.py")
    assert PACKAGE / "train/worker.py" in train  # python -m polyinstruct.train.worker
    assert not [p for p in train if "score/judge" in str(p)]
    shard = fingerprint.closure(REPO / "scripts/translate/translate_shard.py")
    for engine in ("hf_seq2seq.py", "ct2.py", "llm.py"):  # named as "module:Class" in the lazy registry
        assert PACKAGE / "translate" / engine in shard
    report = fingerprint.closure(REPO / "scripts/report/report_tables.py")
    for module in ("score/gating.py", "score/judge/pairwise.py", "score/judge/single.py"):
        assert PACKAGE / module in report


def test_fingerprints_from_the_disk_cache_equal_parsed_ones_and_follow_edits(tmp_path, monkeypatch):
    """What each file's syntax tree says is kept on disk, keyed by the file's bytes: a later Snakemake start
    reads it instead of parsing ~140 files, gets the same fingerprints, and an edited module is parsed anew."""
    code = tmp_path / "code"
    shutil.copytree(PACKAGE, code / "polyinstruct", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "scripts", code / "scripts")
    scripts = sorted((code / "scripts").rglob("*.py"))
    monkeypatch.setenv("POLYINSTRUCT_CACHE", str(tmp_path / "cache"))

    def fresh_start() -> dict[str, str]:  # what a new process sees: no in-memory caches
        for cached in (fingerprint._fingerprint, fingerprint._imported_modules, fingerprint._disk_cache):
            cached.cache_clear()
        prints = {s.name: fingerprint.fingerprint(s, code / "polyinstruct") for s in scripts}
        fingerprint.save_cache()  # as add_code_params does once every rule's script is fingerprinted
        return prints

    parsed = fresh_start()
    cached = json.loads(fingerprint.cache_file().read_text())
    assert len(cached) >= 100 and fingerprint.cache_file().parent == tmp_path / "cache"
    shutil.rmtree(tmp_path / "cache")
    (tmp_path / "cache").mkdir()
    fingerprint.cache_file().write_text(json.dumps(cached))
    assert fresh_start() == parsed
    assert json.loads(fingerprint.cache_file().read_text()) == cached  # nothing new parsed, nothing rewritten
    # an edit that adds an import: the closure (and so the fingerprint) of the scripts that reach it changes
    module = code / "polyinstruct/data/modifiers.py"
    module.write_text(module.read_text(encoding="utf-8") + "\nfrom polyinstruct.mt import comet_score  # noqa\n")
    edited = fresh_start()
    assert edited["normalise_eval.py"] != parsed["normalise_eval.py"]
    closure = fingerprint.closure(code / "scripts/data/normalise_eval.py", code / "polyinstruct")
    assert code / "polyinstruct/mt/comet_score.py" in closure
    assert edited["mt_score.py"] == parsed["mt_score.py"]
    # an unwritable cache place costs the parse, nothing else
    monkeypatch.setenv("POLYINSTRUCT_CACHE", str(module))  # a file: no directory can be made there
    assert fresh_start() == edited


def _import_graph() -> dict[str, set[str]]:
    graph = {}
    for path in PACKAGE.rglob("*.py"):
        name = fingerprint.module_name(path)
        graph[name] = {m for m in fingerprint.imported_modules(path, references=False) if m != name}
    return graph


def test_no_import_cycles():
    graph = _import_graph()
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert cycles == []


def test_no_module_imports_another_modules_private_names():
    offenders = []
    for path in [*PACKAGE.rglob("*.py"), *(REPO / "scripts").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("polyinstruct"):
                offenders += [f"{path.relative_to(REPO)}: {a.name}" for a in node.names if a.name.startswith("_")]
    assert offenders == []


def test_protocol_registry_matches_the_schema_and_templates():
    schema = yaml.safe_load((REPO / "schemas/config.schema.yaml").read_text(encoding="utf-8"))
    judge = schema["properties"]["score"]["properties"]["judge"]["properties"]
    assert judge["protocols"]["items"]["enum"] == protocols.judge_protocols()
    for name, protocol in protocols.REGISTRY.items():
        node = schema
        for key in protocol.config_key.split("."):
            node = node["properties"][key]
        defaults = node["properties"]["templates"]["default"]
        assert set(defaults) == set(protocol.roles), name
        block = {k: v["default"] for k, v in node["properties"].items() if "default" in v}
        if block.get("judge_prompts"):  # shipped FastChat prompts, relative to the repository
            block["judge_prompts"] = str(REPO / block["judge_prompts"])
        for role in defaults:  # every default template exists and has its placeholders
            protocol.templates(REPO / "resources/prompts/judge", block).get(role, "en")


def test_engine_registry_is_lazy_and_complete():
    schema = yaml.safe_load((REPO / "schemas/config.schema.yaml").read_text(encoding="utf-8"))
    engine = schema["properties"]["translate"]["properties"]["engine"]
    assert engine["enum"] == list(registry.ENGINES)
    for entry in registry.ENGINES.values():
        assert entry.load().__module__ == entry.target.split(":")[0]
    assert registry.model_engines() == ("hf-seq2seq", "ctranslate2", "llm")


def _copy_code(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for name in ("Snakefile", "config.yaml", "pyproject.toml"):
        shutil.copy2(REPO / name, dest / name)
    for name in ("rules", "scripts", "polyinstruct", "schemas", "resources", "report", "envs", "profiles"):
        shutil.copytree(REPO / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def _statuses(summary: str) -> dict[str, set[str]]:
    """Rule -> the statuses of its output files, from `snakemake --summary` (output, date, rule, log, status)."""
    found: dict[str, set[str]] = {}
    for row in (line.split("\t") for line in summary.splitlines()[1:] if "\t" in line):
        found.setdefault(row[2], set()).add(row[4])
    return found


@pytest.mark.workflow
def test_editing_a_deep_module_reruns_exactly_the_rules_that_import_it(finished_tiny_run, tmp_path, workflow_rules):
    """modifiers.py is imported by the data stage, generation and scoring, never by training: after an edit of a
    copy of the code, Snakemake finds the params (code fingerprints) changed exactly for the rules whose scripts
    import it. Read from `snakemake --summary`, which checks every job (a dry run names a params change only for
    jobs none of whose inputs is re-made; `--list-changes params` lists every output in Snakemake 9.27)."""
    from polyinstruct.workflow.planning import OFFLINE_ENV

    code = _copy_code(tmp_path / "code")

    def summary() -> dict[str, set[str]]:
        cmd = [
            str(Path(sys.executable).parent / "snakemake"),
            "--snakefile",
            str(code / "Snakefile"),
            "--directory",
            str(finished_tiny_run),
            "--configfile",
            str(finished_tiny_run / "tiny.yaml"),
            "--cores",
            "1",
            "--profile",
            str(REPO / "tests/profile"),
            "--summary",
        ]
        env = {**os.environ, **OFFLINE_ENV, "PYTHONPATH": str(code)}
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=finished_tiny_run, env=env)
        assert proc.returncode == 0, proc.stderr[-4000:]
        return _statuses(proc.stdout)

    def fingerprints() -> dict[str, str]:
        fingerprint._fingerprint.cache_clear()
        return {
            name: fingerprint.fingerprint(code / "rules" / rule.script, code / "polyinstruct")
            for name, rule in workflow_rules.items()
            if rule.script
        }

    before, prints_before = summary(), fingerprints()
    # a rule whose inputs name files of the workflow's own folder (the judge templates) sees its set of input
    # files change when the code moves; Snakemake reports that before any params change
    moved = {rule for rule, found in before.items() if found != {"ok"}}
    assert all(before[rule] == {"set of input files changed"} for rule in moved) and moved <= {"judge", "report_browse"}
    module = code / "polyinstruct/data/modifiers.py"
    module.write_text(module.read_text(encoding="utf-8") + "\n# an edit\n", encoding="utf-8")
    after, prints_after = summary(), fingerprints()
    expected = {
        name
        for name, rule in workflow_rules.items()
        if rule.script
        and PACKAGE / "data/modifiers.py" in fingerprint.closure((Path(rule.snakefile).parent / rule.script).resolve())
    }
    tiny_rules = set(after)
    changed = {rule for rule, found in after.items() if "params changed" in found}
    assert changed == (expected & tiny_rules) - moved and {"normalise_eval", "generate"} <= changed
    assert {rule for rule in prints_before if prints_before[rule] != prints_after[rule]} == expected
    assert not (changed | expected) & {"train", "build_mixture", "prepare_model"}
