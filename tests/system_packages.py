"""Debian packages the test suite needs, installed when missing (`make test` runs `python tests/system_packages.py
install` first, as root with apt-get, as CI does).

- Slurm's daemons and commands for the single-node test cluster (tests/slurm_cluster.py);
- Hunspell dictionaries for the spelling tests (tests/test_spelling.py reads /usr/share/hunspell).

One `apt-get update` and one `apt-get install` for whatever is missing. Where the packages cannot be installed
(not root, no apt-get, or a machine that belongs to a real Slurm cluster) nothing is installed and the tests
that need them skip, saying why; where they can, nothing is skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import slurm_cluster  # noqa: E402

HUNSPELL_DIR = Path("/usr/share/hunspell")
#: Debian package -> the dictionary file it installs.
HUNSPELL = {"hunspell-de-de": HUNSPELL_DIR / "de_DE.dic", "hunspell-fr": HUNSPELL_DIR / "fr_FR.dic"}


def missing_hunspell() -> list[str]:
    return [package for package, dic in HUNSPELL.items() if not dic.exists()]


def why_not_installable() -> str | None:
    """None when apt-get can install packages here, else the reason."""
    if sys.platform != "linux" or shutil.which("apt-get") is None:
        return "needs Debian's apt-get"
    if os.geteuid() != 0:
        return "installing Debian packages needs root"
    return None


def missing() -> list[str]:
    """Packages to install: the Hunspell dictionaries, and Slurm's unless this machine cannot run the test cluster."""
    packages = missing_hunspell()
    if slurm_cluster.missing_binaries() and slurm_cluster.why_unavailable() is None:
        packages += list(slurm_cluster.PACKAGES)
    return packages


def install() -> list[str]:
    """apt-get install what is missing; returns what was installed."""
    packages = missing()
    if not packages:
        return []
    reason = why_not_installable()
    if reason:
        print(f"not installing {' '.join(packages)} ({reason}); the tests that need them will skip")
        return []
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    wait = ["-o", "DPkg::Lock::Timeout=300"]  # another install (a parallel test worker) holds the lock: wait
    subprocess.run(["apt-get", *wait, "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", *wait, "install", "-y", "-qq", "--no-install-recommends", *packages], check=True, env=env
    )
    with_slurm = set(slurm_cluster.PACKAGES) <= set(packages)
    still = missing_hunspell() + (slurm_cluster.missing_binaries() if with_slurm else [])
    if still:
        raise RuntimeError(f"apt-get install {' '.join(packages)} left {still} missing")
    return packages


if __name__ == "__main__":
    if sys.argv[1:] != ["install"]:
        sys.exit("usage: system_packages.py install")
    reason = slurm_cluster.why_unavailable()
    if reason:
        print(f"Slurm tests will be skipped: {reason}")
    installed = install()
    print(f"installed {' '.join(installed)}" if installed else "test packages: nothing to install")
