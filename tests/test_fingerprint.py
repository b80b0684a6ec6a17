import shutil

from polyinstruct import fingerprint


def test_editing_a_module_changes_only_the_stages_that_use_it(tmp_path, monkeypatch):
    copy = tmp_path / "polyinstruct"
    shutil.copytree(fingerprint.PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(fingerprint, "PACKAGE_DIR", copy)
    before = {stage: fingerprint.fingerprint(stage) for stage in fingerprint.STAGE_MODULES}
    with open(copy / "judge" / "openai_backend.py", "a") as fh:
        fh.write("\n# a change to the judge\n")
    after = {stage: fingerprint.fingerprint(stage) for stage in fingerprint.STAGE_MODULES}
    changed = {stage for stage in before if before[stage] != after[stage]}
    assert changed == {"judge"}
    with open(copy / "gating.py", "a") as fh:
        fh.write("\n# a change to gating\n")
    again = {stage: fingerprint.fingerprint(stage) for stage in fingerprint.STAGE_MODULES}
    assert {stage for stage in after if after[stage] != again[stage]} == {"score"}


def test_every_listed_module_exists():
    for stage, entries in fingerprint.STAGE_MODULES.items():
        for entry in entries:
            assert (fingerprint.PACKAGE_DIR / entry).exists(), f"{stage}: {entry}"
