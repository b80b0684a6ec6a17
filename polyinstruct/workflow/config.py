"""Load and check an experiment config before Snakemake plans a single job.

jsonschema does the typing (with defaults filled in from the schema); the checks here are the
ones a schema cannot express: language codes against the registry, names that must refer to
configured things, exactly one model source. Every message names the config key to fix.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from polyinstruct import languages
from polyinstruct.data import sources


class ConfigError(ValueError):
    """An invalid config; the message starts with the offending key."""


def _key(path) -> str:
    return ".".join(str(p) for p in path) or "<top level>"


def _with_defaults(validator_class):
    """A validator that fills in `default` values, recursing into objects it creates."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    instance[name] = copy.deepcopy(subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


_Validator = _with_defaults(jsonschema.Draft202012Validator)


#: libyaml's safe loader where PyYAML has it: the same documents, about 4x faster on the schema, which every
#: Snakemake invocation reads (planning cost, issue 20)
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_schema(path: str | Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_SAFE_LOADER)


def drop_nulled_entries(config: Any, schema: dict) -> Any:
    """Remove named entries set to null (`models: {pythia-12b: null}`), in place; returns `config`.

    Snakemake merges `--configfile A B` key by key, so a later file cannot otherwise remove a model,
    dataset, eval set or mixture share a preset declares; a null entry of a name -> value mapping whose
    values cannot be null says "drop it".
    """
    if not isinstance(config, dict) or not isinstance(schema, dict):
        return config
    named = schema.get("additionalProperties")
    types = named.get("type") if isinstance(named, dict) else None
    if types is not None and "null" not in ([types] if isinstance(types, str) else types):
        for name in [k for k, v in config.items() if v is None]:
            del config[name]
        for value in config.values():
            drop_nulled_entries(value, named)
    for name, subschema in schema.get("properties", {}).items():
        if name in config:
            drop_nulled_entries(config[name], subschema)
    return config


def validate(config: dict, schema: dict) -> dict:
    """Return a copy of `config` with defaults filled in, or raise ConfigError naming the key."""
    config = drop_nulled_entries(copy.deepcopy(config), schema)
    errors = sorted(_Validator(schema).iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        lines = []
        for err in errors:
            if err.validator == "additionalProperties":
                extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
                for name in extra:
                    lines.append(f"config key '{_key([*err.absolute_path, name])}': unknown key")
            else:
                lines.append(f"config key '{_key(err.absolute_path)}': {err.message}")
        raise ConfigError("invalid config:\n  " + "\n  ".join(lines))
    _check_semantics(config)
    return config


def _check_language(code: str, key: str) -> None:
    try:
        languages.get(code)
    except languages.UnknownLanguageError as exc:
        raise ConfigError(f"config key '{key}': {exc}") from None


def language_lists(config: dict) -> list[tuple[str, list]]:
    """(config key, list) of every list of language codes (or language pairs) in a config."""
    lists = [
        ("languages", config["languages"]),
        ("eval_languages", config["eval_languages"]),
        ("crosslingual.pivots", config["crosslingual"]["pivots"]),
        ("crosslingual.languages", config["crosslingual"]["languages"]),
        ("lm_eval.languages", config["lm_eval"]["languages"]),
        ("train.lr_selection.languages", config["train"]["lr_selection"]["languages"] or []),
    ]
    for name, spec in config["mt_eval"]["testsets"].items():
        lists += [(f"mt_eval.testsets.{name}.{k}", spec.get(k) or []) for k in ("pivots", "languages", "pairs")]
    return lists


def _check_no_repeats(key: str, values: list) -> None:
    """A language listed twice would plan (and train, translate, evaluate) the same thing twice."""
    first: dict[str, int] = {}
    for i, value in enumerate(values):
        try:
            canonical = languages.get(value).code  # `fr` and `fra` are the same language
        except languages.UnknownLanguageError:
            canonical = value  # a pair (en-fr), or an unknown code that the language checks report
        if canonical in first:
            j = first[canonical]
            same = f"'{value}'" if values[j] == value else f"'{values[j]}' and '{value}' (the same language)"
            raise ConfigError(f"config key '{key}': {same} listed twice ({key}[{j}] and {key}[{i}])")
        first[canonical] = i


def _check_semantics(config: dict) -> None:
    _check_language(config["source_language"], "source_language")
    for i, code in enumerate(config["languages"]):
        _check_language(code, f"languages[{i}]")
    for i, code in enumerate(config["eval_languages"]):
        _check_language(code, f"eval_languages[{i}]")
    for key, values in language_lists(config):
        _check_no_repeats(key, values)
    if config["source_language"] not in config["languages"]:
        raise ConfigError(f"config key 'languages': must include source_language '{config['source_language']}'")
    for code in config["translate"]["engines"]:
        _check_language(code, f"translate.engines.{code}")
        if code not in config["languages"]:
            raise ConfigError(f"config key 'translate.engines.{code}': '{code}' is not in languages")
    if not config["datasets"]:
        raise ConfigError("config key 'datasets': at least one instruction dataset is needed")
    for name, spec in config["datasets"].items():
        if (spec.get("path") is None) == (spec.get("hub") is None):
            raise ConfigError(f"config key 'datasets.{name}': set exactly one of 'path' or 'hub'")
    for name, spec in config["evalsets"].items():
        if (spec.get("path") is None) == (spec.get("hub") is None):
            raise ConfigError(f"config key 'evalsets.{name}': set exactly one of 'path' or 'hub'")
        _check_evalset_language(config, name, spec)
    for i, name in enumerate(config["mixtures"]["datasets"]):
        if name not in config["datasets"]:
            raise ConfigError(f"config key 'mixtures.datasets[{i}]': no dataset named '{name}'")
    if not config["models"]:
        raise ConfigError("config key 'models': at least one base model is needed")
    for name, spec in config["models"].items():
        sources = [k for k in ("hub", "path", "gguf") if spec.get(k)]
        if len(sources) != 1:
            raise ConfigError(
                f"config key 'models.{name}': set exactly one of 'hub', 'path' or 'gguf' (got {sources or 'none'})"
            )
    judge = config["score"]["judge"]["model"]
    if judge is not None and judge not in config["models"]:
        raise ConfigError(f"config key 'score.judge.model': no model named '{judge}' under 'models'")
    relevance_judge = config["surface"]["relevance"]["judge"]
    if relevance_judge["model"] is not None and relevance_judge["model"] not in config["models"]:
        raise ConfigError(
            f"config key 'surface.relevance.judge.model': no model named '{relevance_judge['model']}' under 'models'"
        )
    local_judges = {relevance_judge["model"]} | ({judge} if config["score"]["judge"]["backend"] == "local" else set())
    for name, spec in config["models"].items():
        if spec.get("judge_only") and name not in local_judges:
            raise ConfigError(
                f"config key 'models.{name}.judge_only': '{name}' is no local judge (score.judge.model: {judge!r}, "
                f"score.judge.backend: {config['score']['judge']['backend']!r}, surface.relevance.judge.model: "
                f"{relevance_judge['model']!r})"
            )
    if all(spec.get("judge_only") for spec in config["models"].values()):
        raise ConfigError("config key 'models': every model is judge_only; name at least one model to study")
    _check_precomputed_join(config)
    _check_training(config)
    _check_evaluation(config)
    _check_crosslingual(config)
    _check_benchmarks(config)


def _check_line_range(lines: list | None, key: str) -> None:
    if lines and (lines[0] is None or (lines[1] is not None and lines[1] <= lines[0])):
        raise ConfigError(f"config key '{key}': {lines} is not [start, stop] with start < stop (stop may be null)")


def _check_precomputed_join(config: dict) -> None:
    """A position join needs position ids in every dataset it translates (the n-th record is `<dataset>-<n>`)."""
    t = config["translate"]
    used = {t["engine"], *t["engines"].values(), t["qa"]["fallback_engine"]}
    if t["precomputed"]["join"] != "position" or "precomputed" not in used:
        return
    for name in config["mixtures"]["datasets"] or config["datasets"]:
        if config["datasets"][name].get("ids") != "position":
            raise ConfigError(
                f"config key 'datasets.{name}.ids': translate.precomputed.join is position, so the records need "
                f"position ids (set ids: position)"
            )


def _check_evalset_language(config: dict, name: str, spec: dict) -> None:
    """`evalsets.<name>.lang`: a single-language file, evaluated in that language only."""
    fixed = spec.get("lang")
    if not fixed:
        return
    key = f"evalsets.{name}.lang"
    _check_language(fixed, key)
    if sources.per_language(spec.get("path")):
        raise ConfigError(f"config key '{key}': the path {spec['path']!r} already names one file per language")
    others = [c for c in (config["eval_languages"] or config["languages"]) if languages.get(c).code != fixed]
    if others:
        raise ConfigError(
            f"config key '{key}': the eval set is in '{fixed}' only, but the eval languages also hold "
            f"{', '.join(others)}; evaluate in '{fixed}' only (eval_languages: [{fixed}]) or give the eval set "
            f"one file per language ({{lang}} in its path)"
        )


def _check_crosslingual(config: dict) -> None:
    x = config["crosslingual"]
    _check_line_range(x["parallel"]["lines"], "crosslingual.parallel.lines")
    for key in ("pivots", "languages"):
        for i, code in enumerate(x[key]):
            _check_language(code, f"crosslingual.{key}[{i}]")
    if "crosslingual" not in config["mixtures"]["kinds"]:
        return
    pattern = x["parallel"]["path"]
    if not pattern:
        raise ConfigError("config key 'crosslingual.parallel.path': the crosslingual mixture needs parallel text")
    needed = (sources.LANGUAGE_PLACEHOLDERS,) if x["parallel"]["format"] == "lines" else (("{pivot}",), ("{lang}",))
    for placeholders in needed:
        if not any(p in pattern for p in placeholders):
            raise ConfigError(
                f"config key 'crosslingual.parallel.path': {x['parallel']['format']} files need "
                f"{' or '.join(placeholders)} in the pattern (got {pattern!r})"
            )
    if not [lang for lang in x["languages"] if lang not in x["pivots"]]:
        raise ConfigError("config key 'crosslingual.languages': name at least one language besides the pivots")
    shares = x["mixture"]["shares"]
    for key in shares:
        if key != "crosslingual" and key not in config["languages"]:
            raise ConfigError(
                f"config key 'crosslingual.mixture.shares.{key}': neither 'crosslingual' nor a "
                f"training language (languages: {', '.join(config['languages'])})"
            )
    if "crosslingual" not in shares or not sum(shares.values()) > 0:
        raise ConfigError("config key 'crosslingual.mixture.shares': needs a positive 'crosslingual' share")
    _check_apart_from_tests(config)


def _overlap(a: list | None, b: list | None) -> bool:
    """Whether two `[start, stop]` line ranges (None = every line, null stop = to the end) share a line."""
    a_start, a_stop = a or (0, None)
    b_start, b_stop = b or (0, None)
    return (b_stop is None or a_start < b_stop) and (a_stop is None or b_start < a_stop)


def _check_apart_from_tests(config: dict) -> None:
    """The cross-lingual training text must not be an MT test set's test files, nor lines of its shot pool
    (BayLing 2 draws the 1-shot examples from FLORES dev): the same files need disjoint line ranges."""
    from polyinstruct.mixtures import crosslingual
    from polyinstruct.mt import mt_eval
    from polyinstruct.workflow import grid

    x = config["crosslingual"]
    parallel = {
        os.path.abspath(path)
        for pivot, lang in grid.crosslingual_pairs(config)
        for path in crosslingual.parallel_paths(x["parallel"], pivot, lang).values()
    }
    for name, spec in config["mt_eval"]["testsets"].items():
        key = f"mt_eval.testsets.{name}"
        for src, tgt in mt_eval.directions(spec):
            try:
                files = mt_eval.files(spec, src, tgt, name)
            except ValueError:
                continue  # a pattern this language cannot fill is reported when the test set is planned
            for role in ("source", "reference"):
                if os.path.abspath(files[role]) in parallel:
                    raise ConfigError(
                        f"config key 'crosslingual.parallel.path': reads {files[role]}, a test file of {key}: "
                        f"the cross-lingual instructions would be trained on the test set"
                    )
            for role in ("dev_source", "dev_reference"):
                if (
                    role in files
                    and os.path.abspath(files[role]) in parallel
                    and _overlap(x["parallel"]["lines"], spec.get("dev_lines"))
                ):
                    raise ConfigError(
                        f"config key 'crosslingual.parallel.lines': the cross-lingual text and the shot pool of "
                        f"{key} are lines of the same file ({files[role]}); give them disjoint line ranges "
                        f"(crosslingual.parallel.lines {x['parallel']['lines']}, {key}.dev_lines "
                        f"{spec.get('dev_lines')}; e.g. [200, null] and [0, 200])"
                    )


def _check_benchmarks(config: dict) -> None:
    for name, spec in config["mt_eval"]["testsets"].items():
        key = f"mt_eval.testsets.{name}"
        if bool(spec.get("test")) == bool(spec.get("source") or spec.get("reference")):
            raise ConfigError(
                f"config key '{key}': set `test` (FLORES-style, with {{lang}}) or `source` and "
                f"`reference` (WMT-style, with {{src}} and {{tgt}}), not both"
            )
        if spec.get("source") and not spec.get("reference"):
            raise ConfigError(f"config key '{key}.reference': WMT-style test sets need a reference pattern")
        for list_key in ("pivots", "languages"):
            for i, code in enumerate(spec.get(list_key, [])):
                _check_language(code, f"{key}.{list_key}[{i}]")
        for i, pair in enumerate(spec.get("pairs", [])):
            from polyinstruct.mt import mt_eval

            try:
                mt_eval.split_pair(pair, languages.all_codes())
            except ValueError:
                raise ConfigError(f"config key '{key}.pairs[{i}]': {pair!r} is not src-tgt of registry codes") from None
        if not spec.get("pairs") and not [x for x in spec.get("languages", []) if x not in spec.get("pivots", [])]:
            raise ConfigError(
                f"config key '{key}.languages': no direction (name languages besides the pivots, or pairs)"
            )
        _check_line_range(spec.get("dev_lines"), f"{key}.dev_lines")
        if spec.get("reference") and "{ref}" in spec["reference"]:
            from polyinstruct.mt import mt_eval

            for src, tgt in mt_eval.directions(spec):
                try:
                    mt_eval.reference_id(spec, src, tgt, name)
                except ValueError as exc:
                    raise ConfigError(str(exc)) from None
        if spec.get("shots", 1) and not (spec.get("dev") or (spec.get("dev_source") and spec.get("dev_reference"))):
            raise ConfigError(
                f"config key '{key}.shots': shots are drawn from dev; set `dev` (or dev_source and "
                f"dev_reference), or shots: 0"
            )
    comet = config["mt_eval"]["comet"]
    if comet["enabled"] and not config["mt_eval"]["testsets"]:
        raise ConfigError("config key 'mt_eval.comet.enabled': no mt_eval.testsets to score")
    lm = config["lm_eval"]
    for i, code in enumerate(lm["languages"]):
        _check_language(code, f"lm_eval.languages[{i}]")
    if lm["lora"] == "merged" and "lora" in config["train"]["methods"] and not config["train"]["lora"]["merge"]:
        raise ConfigError("config key 'lm_eval.lora': merged needs train.lora.merge: true")
    if lm["tasks"]:
        from polyinstruct.lm_eval import lm_tasks

        try:
            lm_tasks.expand(lm["tasks"], lm["languages"] or config["eval_languages"] or config["languages"])
        except ValueError as exc:
            raise ConfigError(str(exc)) from None


def _check_evaluation(config: dict) -> None:
    from polyinstruct.io import InputError
    from polyinstruct.workflow import grid

    judge = config["score"]["judge"]
    for name, spec in config["evalsets"].items():
        if spec.get("format") and spec.get("hub"):
            raise ConfigError(
                f"config key 'evalsets.{name}.format': formatted eval sets are read from 'path', not the hub"
            )
    if judge["backend"] == "openai":
        for key in ("base_url", "model"):
            if not judge["openai"][key]:
                raise ConfigError(f"config key 'score.judge.openai.{key}': required when score.judge.backend is openai")
    own = config["surface"]["relevance"]["judge"]
    if config["surface"]["relevance"]["enabled"] and own["backend"] == "openai":
        merged = {**judge["openai"], **(own["openai"] or {})}
        for key in ("base_url", "model"):
            if not merged.get(key):
                raise ConfigError(
                    f"config key 'surface.relevance.judge.openai.{key}': required when the relevance judge is openai"
                )
    from polyinstruct.score.judge import protocols

    for i, protocol in enumerate(judge["protocols"]):
        if protocol not in protocols.judge_protocols():
            raise ConfigError(
                f"config key 'score.judge.protocols[{i}]': {protocol!r} is not a judge protocol "
                f"(one of {', '.join(protocols.judge_protocols())})"
            )
    known = grid.single_protocols(config) + grid.pairwise_protocols(config)
    for protocol in config["score"]["gating"]["by_protocol"]:
        if protocol not in protocols.REGISTRY:
            raise ConfigError(f"config key 'score.gating.by_protocol.{protocol}': not a judge protocol")
        if protocol not in known:
            raise ConfigError(f"config key 'score.gating.by_protocol.{protocol}': protocol is not enabled")
    for protocol in grid.pairwise_protocols(config):
        try:
            pairs = grid.pairwise_pairs(config, protocol)
        except InputError as exc:
            raise ConfigError(str(exc)) from None
        if not pairs:
            raise ConfigError(
                f"config key '{protocols.get(protocol).config_key}.baseline': "
                f"{judge[protocol]['baseline']!r} names no run of the grid for any run "
                f"(runs: {', '.join(r.path for r in grid.runs(config))})"
            )
    votes = config["agreement"]["human_votes"]
    if votes and grid.agreement_protocol(config) is None:
        raise ConfigError(
            "config key 'agreement.human_votes': needs a pairwise protocol (mt_bench_pairwise) in score.judge.protocols"
        )
    for evalset, by_lang in votes.items():
        if evalset not in config["evalsets"]:
            raise ConfigError(f"config key 'agreement.human_votes.{evalset}': no eval set named '{evalset}'")
        for lang in by_lang:
            if lang not in grid.eval_languages(config):
                raise ConfigError(
                    f"config key 'agreement.human_votes.{evalset}.{lang}': '{lang}' is not an eval language"
                )


def _check_training(config: dict) -> None:
    train = config["train"]
    if train["checkpoint_selection"] == "every-epoch" and train["eval_every_steps"]:
        raise ConfigError(
            "config key 'train.eval_every_steps': every-epoch checkpoint selection evaluates once "
            "per epoch; set it to null"
        )
    _check_configurations(config)
    _check_schedule_and_batches(config)
    selection = train["lr_selection"]
    criterion = selection["criterion"]
    if criterion not in ("langid", "surface"):
        return
    if criterion == "surface":
        weights = selection["weights"]
        if not any(weights.values()):
            raise ConfigError("config key 'train.lr_selection.weights': at least one weight must be > 0")
        if weights["spelling"] and not config["surface"]["spelling"]["enabled"]:
            raise ConfigError(
                "config key 'train.lr_selection.weights.spelling': needs surface.spelling.enabled (or weight 0)"
            )
        if weights["relevance"] and not config["surface"]["relevance"]["enabled"]:
            raise ConfigError(
                "config key 'train.lr_selection.weights.relevance': needs surface.relevance.enabled (or weight 0)"
            )
    if not config["evalsets"]:
        raise ConfigError(f"config key 'train.lr_selection.criterion': {criterion} needs an eval set to answer")
    if selection["evalset"] is not None and selection["evalset"] not in config["evalsets"]:
        raise ConfigError(f"config key 'train.lr_selection.evalset': no eval set named '{selection['evalset']}'")
    eval_languages = config["eval_languages"] or config["languages"]
    for i, code in enumerate(selection["languages"] or []):
        if code not in eval_languages:
            raise ConfigError(f"config key 'train.lr_selection.languages[{i}]': '{code}' is not an eval language")
    if not [c for c in (selection["languages"] or eval_languages) if c != config["source_language"]]:
        raise ConfigError(
            f"config key 'train.lr_selection.languages': {criterion} selection needs a non-source language"
        )


def _check_configurations(config: dict) -> None:
    """Every `train.configurations` pattern keeps at least one model/method/dataset/mixture of the product."""
    from fnmatch import fnmatchcase

    from polyinstruct.workflow import grid

    product = [
        grid.configuration(model, method, dataset, mixture)
        for model in grid.studied_models(config)
        for method in config["train"]["methods"]
        for dataset in grid.mixture_datasets(config)
        for mixture in grid.mixture_ids(config)
    ]
    for i, pattern in enumerate(config["train"]["configurations"] or []):
        if not any(fnmatchcase(name, pattern) for name in product):
            raise ConfigError(
                f"config key 'train.configurations[{i}]': {pattern!r} matches no model/method/dataset/mixture "
                f"of the grid (e.g. {', '.join(product[:3])})"
            )


def _check_schedule_and_batches(config: dict) -> None:
    train = config["train"]
    for method in train["methods"]:
        own = train[method]
        where = f"train.{method}" if own.get("min_lr_ratio") is not None else "train"
        ratio = own.get("min_lr_ratio") if own.get("min_lr_ratio") is not None else train["min_lr_ratio"]
        scheduler = own.get("lr_scheduler") or train["lr_scheduler"]
        if ratio is not None and scheduler not in ("polynomial", "cosine_with_min_lr", "cosine_warmup_with_min_lr"):
            raise ConfigError(
                f"config key '{where}.min_lr_ratio': scheduler '{scheduler}' has no end point to set "
                "(use polynomial or cosine_with_min_lr, or set it to null)"
            )
        tokens = own.get("batch_tokens") or train["batch_tokens"]
        if train["batching"] == "tokens" and tokens < train["max_length"]:
            raise ConfigError(
                f"config key 'train.batch_tokens': {tokens} tokens per batch cannot hold one example of "
                f"train.max_length {train['max_length']}"
            )


SHIPPED = (
    ("score", "judge", "template_dir"),
    ("score", "judge", "mt_bench_single", "judge_prompts"),
    ("score", "judge", "mt_bench_pairwise", "judge_prompts"),
    ("crosslingual", "prompts_dir"),
)


def _resolve_shipped(config: dict, repo: Path) -> dict:
    """Relative paths of shipped resources (judge templates) that are not in the working directory
    resolve against the repository, so a workflow run in another directory still finds them."""
    for keys in SHIPPED:
        node = config
        for key in keys[:-1]:
            node = node[key]
        if node[keys[-1]] is None:
            continue
        path = Path(node[keys[-1]])
        if not path.is_absolute() and not path.exists() and (repo / path).exists():
            node[keys[-1]] = str(repo / path)
    return config


def load(config: dict[str, Any], schema_path: str | Path, repo: str | Path | None = None) -> dict:
    """Validate; `repo` (the workflow's directory) is where shipped resources are found."""
    config = validate(config, load_schema(schema_path))
    return _resolve_shipped(config, Path(repo)) if repo is not None else config
