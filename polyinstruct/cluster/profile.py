"""Install the shipped Slurm profile where `snakemake --profile slurm` finds it (`make slurm-profile`).

Snakemake resolves `--profile NAME` to `./NAME`, then `$XDG_CONFIG_HOME/snakemake/NAME` (by default
`~/.config/snakemake/NAME`), then `/etc/xdg/snakemake/NAME`. The install copies `profiles/slurm/config.yaml`
to the user's directory, so that the command users type works from any directory, and it refuses to
overwrite a copy that was edited (the SITE lines) unless asked to.

Only the standard library is used: `python3 -m polyinstruct.cluster.profile install` runs before any venv.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "profiles/slurm/config.yaml"
NAME = "slurm"


def user_profiles_dir(env=os.environ) -> Path:
    """Where Snakemake looks for user profiles: $XDG_CONFIG_HOME/snakemake, else ~/.config/snakemake."""
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "snakemake"


def render(overrides: dict[str, object] | None = None, source: Path = SHIPPED) -> str:
    """The shipped profile's text with top-level `key: value` lines replaced (comments kept)."""
    text = source.read_text(encoding="utf-8")
    for key, value in (overrides or {}).items():
        line = re.compile(rf"^{re.escape(key)}:.*$", re.M)
        if not line.search(text):
            raise KeyError(f"{source} has no top-level '{key}:' line to override")
        text = line.sub(f"{key}: {value}", text, count=1)
    return text


def install(
    dest: Path | None = None, *, overrides: dict[str, object] | None = None, force: bool = False
) -> tuple[Path, str]:
    """Write the profile to `dest` (default: the user's `snakemake/slurm/`); returns (config file, what happened).

    An existing different file is kept (and an error raised) unless `force`: it may hold the site's edits.
    """
    dest = Path(dest) if dest else user_profiles_dir() / NAME
    target = dest / "config.yaml"
    text = render(overrides)
    if target.exists():
        if target.read_text(encoding="utf-8") == text:
            return target, "unchanged"
        if not force:
            raise FileExistsError(
                f"{target} exists and differs from {SHIPPED} (your site's edits?); keep it, or replace it with "
                f"`make slurm-profile FORCE=1` (python3 -m polyinstruct.cluster.profile install --force)"
            )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    return target, "installed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["install"])
    parser.add_argument("--dest", type=Path, help="profile directory (default: $XDG_CONFIG_HOME/snakemake/slurm)")
    parser.add_argument("--force", action="store_true", help="replace an existing, different profile")
    args = parser.parse_args(argv)
    try:
        target, what = install(args.dest, force=args.force)
    except FileExistsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{what}: {target}\nedit its SITE lines (partitions, account, QoS), then run: snakemake --profile {NAME}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
