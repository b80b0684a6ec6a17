"""Configured locations: placeholders, URL -> local path, fetching and archive members, preset layering."""

import http.server
import io
import json
import tarfile
import threading
import zipfile

import pytest
from conftest import REPO

from polyinstruct.data import evalsets, modifiers, sources
from polyinstruct.io import InputError
from polyinstruct.workflow import config as configuration
from polyinstruct.workflow import grid

SCHEMA = REPO / "schemas/config.schema.yaml"
FLORES = "https://dl.fbaipublicfiles.com/nllb/flores200_dataset.tar.gz#flores200_dataset/devtest/{flores}.devtest"


def test_placeholders_fill_code_upper_case_and_flores():
    assert sources.expand("q/mt_bench_{LANG}/question.jsonl", lang="de") == "q/mt_bench_DE/question.jsonl"
    assert sources.expand("{lang}/{flores}.dev", lang="zh-Hant") == "zh-Hant/zho_Hant.dev"
    assert sources.expand("{pivot}-{lang}.tsv", pivot="en", lang="fr") == "en-fr.tsv"
    with pytest.raises(InputError, match=r"unknown placeholder 'src'.*\{lang\}"):
        sources.expand("{src}.txt", lang="fr")


def test_urls_map_to_local_paths_that_encode_them():
    assert sources.local("data/x.jsonl") == "data/x.jsonl"
    url = "https://raw.githubusercontent.com/o/r/main/test-data/test_fr.jsonl"
    path = sources.local(url)
    assert path == "results/external/https/raw.githubusercontent.com/o/r/main/test-data/test_fr.jsonl"
    scheme, address = path.split("/", 3)[2:]
    assert sources.url_of(scheme, address) == url
    member = sources.local(sources.expand(FLORES, lang="fr"))
    assert member == (
        "results/external/https/dl.fbaipublicfiles.com/nllb/flores200_dataset.tar.gz.contents/"
        "flores200_dataset/devtest/fra_Latn.devtest"
    )
    assert sources.split_member_path(member)[1] == "flores200_dataset/devtest/fra_Latn.devtest"


@pytest.mark.parametrize(
    "bad, message",
    [
        ("https://h/x.jsonl?download=true", "query string"),
        ("https://h/dir/", "must name a file"),
        ("https://h/x.jsonl#member", "needs an archive URL"),
    ],
)
def test_unusable_urls_are_refused(bad, message):
    with pytest.raises(InputError, match=message):
        sources.local(bad)


@pytest.fixture
def http_root(tmp_path):
    root = tmp_path / "served"
    root.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_download_writes_the_file_and_its_digest(http_root, tmp_path):
    root, base = http_root
    (root / "a.jsonl").write_text('{"id": 1}\n')
    fetched = sources.download(f"{base}/a.jsonl", tmp_path / "out/a.jsonl", retries=0)
    assert (tmp_path / "out/a.jsonl").read_text() == '{"id": 1}\n'
    assert fetched["bytes"] == 10 and len(fetched["sha256"]) == 64
    with pytest.raises(InputError, match="HTTP 404"):
        sources.download(f"{base}/missing.jsonl", tmp_path / "out/missing.jsonl", retries=0)
    assert not (tmp_path / "out/missing.jsonl").exists()


def test_members_come_out_of_tar_and_zip_archives(tmp_path):
    tar_path = tmp_path / "d.tar.gz"
    with tarfile.open(tar_path, "w:gz") as tf:
        data = b"Hello\nWorld\n"
        info = tarfile.TarInfo("d/devtest/eng_Latn.devtest")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    sources.extract(tar_path, "d/devtest/eng_Latn.devtest", tmp_path / "out/eng.devtest")
    assert (tmp_path / "out/eng.devtest").read_text() == "Hello\nWorld\n"
    with pytest.raises(InputError, match=r"no member 'd/devtest/fra_Latn.devtest' \(for example: d/devtest/eng"):
        sources.extract(tar_path, "d/devtest/fra_Latn.devtest", tmp_path / "out/fra.devtest")
    zip_path = tmp_path / "d.zip"
    with zipfile.ZipFile(zip_path, "w") as zf:
        zf.writestr("x/en.txt", "one\n")
    sources.extract(zip_path, "x/en.txt", tmp_path / "out/en.txt")
    assert (tmp_path / "out/en.txt").read_text() == "one\n"


def _base_config() -> dict:
    return {
        "datasets": {"d": {"path": "resources/data/polyalpaca/en.jsonl"}},
        "evalsets": {"e": {"path": "resources/data/polyeval/{lang}.jsonl"}},
        "models": {"a": {"hub": "org/a"}, "b": {"hub": "org/b"}},
    }


def test_a_null_entry_drops_what_an_earlier_config_declared():
    config = _base_config()
    config["models"]["b"] = None
    config["crosslingual"] = {"mixture": {"shares": {"zh": None, "en": 0.7, "crosslingual": 0.3}}}
    loaded = configuration.validate(config, configuration.load_schema(SCHEMA))
    assert list(loaded["models"]) == ["a"]
    assert loaded["crosslingual"]["mixture"]["shares"] == {"en": 0.7, "crosslingual": 0.3}
    # a null where null is a value (no hub id) is kept as a value
    config = _base_config()
    config["datasets"]["d"]["hub"] = None
    assert configuration.validate(config, configuration.load_schema(SCHEMA))["datasets"]["d"]["hub"] is None


def test_a_model_may_have_its_own_learning_rates():
    config = _base_config()
    config["train"] = {"methods": ["full"], "full": {"learning_rates": [2e-5]}}
    config["models"]["b"]["learning_rates"] = {"full": [2e-6]}
    loaded = configuration.validate(config, configuration.load_schema(SCHEMA))
    rates = {(r.model, r.lr) for r in grid.training_runs(loaded)}
    assert {lr for model, lr in rates if model == "a"} == {"2e-05"}
    assert {lr for model, lr in rates if model == "b"} == {"2e-06"}


def test_a_url_dataset_needs_its_record_count_to_plan():
    with pytest.raises(InputError, match=r"datasets.d.num_records.*planning downloads nothing"):
        grid.count_records({"path": "https://h/d.jsonl"}, "d")
    assert grid.count_records({"path": "https://h/d.jsonl", "num_records": 12}, "d") == 12


def test_released_task_types_name_modifiers(tmp_path):
    assert modifiers.from_task_type("short") == {"name": "brief"}
    assert modifiers.from_task_type("num_items_7") == {"name": "list_items", "n": 7}
    assert modifiers.from_task_type("lang_pt") == {"name": "answer_in_language", "lang": "pt"}
    assert modifiers.from_task_type("brainstorming") is None
    items = evalsets.load_messages(
        REPO / "tests/fixtures/twins/pasero/modifiers.fr.jsonl",
        REPO / "tests/fixtures/twins/pasero/modifiers.fr.types",
        "fr",
    )
    assert [i["modifier"] for i in items] == [
        {"name": "brief"},
        {"name": "list_items", "n": 3},
        {"name": "answer_in_language", "lang": "pt"},
        {"name": "answer_in_language", "lang": "en"},
        {"name": "capitalise_words"},  # "Capitalize each first letter in the answer."
    ]
    assert [i["category"] for i in items] == ["short", "num_items_3", "lang_pt", "lang_en", "cap_template"]


def test_every_preset_and_twin_is_a_valid_config():
    import yaml

    schema = configuration.load_schema(SCHEMA)
    for preset in sorted((REPO / "configs").glob("*.yaml")):
        config = yaml.safe_load(preset.read_text())
        configuration.validate(config, schema)
        twin = yaml.safe_load((REPO / "configs/twins" / preset.name).read_text())
        from snakemake.utils import update_config

        update_config(config, twin)  # Snakemake's own merge of --configfile A B
        configuration.validate(config, schema)
    assert json.dumps(sorted(p.name for p in (REPO / "configs").glob("*.yaml"))) == json.dumps(
        ["bayling2.yaml", "chen2024_alpaca.yaml", "chirkova2024_zeroshot.yaml", "weber2024_mtbenchx.yaml"]
    )


@pytest.mark.workflow
def test_the_workflow_fetches_a_url_eval_set_once_and_reads_it(http_root, tmp_path, tiny_llama):
    import yaml
    from conftest import snakemake, tiny_experiment

    root, base = http_root
    for lang in ("en", "fr"):
        (root / f"mt_bench_{lang.upper()}").mkdir()
        items = [
            json.loads(line) for line in (REPO / "resources/data/polyeval" / f"{lang}.jsonl").read_text().splitlines()
        ]
        (root / f"mt_bench_{lang.upper()}/q.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items[:2]))
    workdir = tmp_path / "work"
    workdir.mkdir()
    config = tiny_experiment(workdir, tiny_llama)
    config["evalsets"]["mini"]["path"] = f"{base}/mt_bench_{{LANG}}/q.jsonl"
    (workdir / "tiny.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    snakemake(workdir, "results/data/eval/mini/fr.jsonl", "results/data/eval/mini/en.jsonl")
    fetched = workdir / f"results/external/http/{base.split('://')[1]}/mt_bench_FR/q.jsonl"
    assert fetched.exists()
    records = [json.loads(line) for line in (workdir / "results/data/eval/mini/fr.jsonl").read_text().splitlines()]
    assert [r["id"] for r in records] == ["pe-01", "pe-02"]
    again = snakemake(workdir, "results/data/eval/mini/fr.jsonl", "-n")
    assert "Nothing to be done" in again.stdout + again.stderr
