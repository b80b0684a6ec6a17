"""Snakemake's source cache parses each script's path once (workflow/script_sources.py).

The memo is checked in fresh Python processes (as a dry run has it), so the test process keeps Snakemake as
it was; the check against another layout of Snakemake uses pytest's monkeypatch, which puts it back.
"""

from __future__ import annotations

import json

from conftest import REPO, python_json, snakemake_here

from polyinstruct.workflow import script_sources


def test_a_path_is_parsed_once_and_names_the_same_cache_entry():
    seen = python_json(
        """
        import json
        import smart_open
        from snakemake import sourcecache
        from snakemake.sourcecache import GenericSourceFile, LocalSourceFile
        from polyinstruct.workflow import script_sources

        calls = []
        real = smart_open.parse_uri  # what snakemake.common.parse_uri imports when it is called
        smart_open.parse_uri = lambda uri: calls.append(uri) or real(uri)
        files = [LocalSourceFile("scripts/mt/mt_score.py"), LocalSourceFile("/abs/envs/mt_eval.yaml"),
                 GenericSourceFile("https://example.org/wrappers/0.1/script.py")]
        before = [f.get_cache_path() for f in files]
        calls_before = len(calls)
        memoized = script_sources.parse_each_path_once()
        again = script_sources.parse_each_path_once()
        after = [f.get_cache_path() for f in files for _ in range(3)]
        print(json.dumps({"before": before, "after": after, "memoized": memoized, "again": again,
                          "calls_before": calls_before, "calls_after": len(calls) - calls_before,
                          "memo": sourcecache.parse_uri.cache_info()._asdict()}))
        """
    )
    assert seen["memoized"] is True and seen["again"] is True  # a second call keeps the one memo
    local, absolute, remote = (
        "file/scripts/mt/mt_score.py",
        "file/abs/envs/mt_eval.yaml",
        "https/example.org/wrappers/0.1/script.py",
    )
    assert seen["before"] == [local, absolute, remote]
    assert seen["after"] == [local] * 3 + [absolute] * 3 + [remote] * 3
    # the generic (remote) file names its entry without parsing; each local path is parsed once, not three times
    assert seen["calls_before"] == 2
    assert seen["calls_after"] == 2
    assert seen["memo"]["misses"] == 2 and seen["memo"]["hits"] == 4


SNAKEFILE = """
import atexit
import json
from snakemake import sourcecache
from polyinstruct.workflow import script_sources

JOBS = 30


rule all:
    input:
        expand("b/{i}.txt", i=range(JOBS)),


rule a:
    output:
        "a/{i}.txt",
    script:
        "touch.py"


rule b:
    input:
        "a/{i}.txt",
    output:
        "b/{i}.txt",
    script:
        "scripts/touch.py"


script_sources.parse_each_path_once()


@atexit.register  # once the dry run has checked every job
def seen():
    with open("memo.json", "w") as fh:
        json.dump(sourcecache.parse_uri.cache_info()._asdict(), fh)
"""


def test_a_dry_run_parses_each_script_path_once(tmp_path):
    (tmp_path / "Snakefile").write_text(SNAKEFILE, encoding="utf-8")
    (tmp_path / "scripts").mkdir()
    for script in (tmp_path / "touch.py", tmp_path / "scripts/touch.py"):
        script.write_text("open(snakemake.output[0], 'w').close()\n", encoding="utf-8")
    snakemake_here(tmp_path, "-n", "--cores", "1", "--quiet", "all")
    memo = json.loads((tmp_path / "memo.json").read_text())
    # 60 jobs with a script, three parses each, of two paths: Snakemake parsed each path once
    assert memo["misses"] == 2
    assert memo["hits"] >= 3 * 60 - 2


def test_another_snakemake_layout_is_left_as_it_is(monkeypatch):
    from snakemake import sourcecache

    def elsewhere(path_or_uri):  # a later Snakemake calling a function of its own
        raise AssertionError("not called here")

    monkeypatch.setattr(sourcecache, "parse_uri", elsewhere)
    assert script_sources.parse_each_path_once() is False
    assert sourcecache.parse_uri is elsewhere


def test_the_workflow_uses_it():
    snakefile = (REPO / "Snakefile").read_text(encoding="utf-8")
    assert "\nscript_sources.parse_each_path_once()\n" in snakefile
