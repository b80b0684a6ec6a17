"""Snakemake's source cache parses each script's path once, not three times per job (planning cost, issue 20).

For every job of a `script:` rule, Snakemake's dry run checks the rule's script (`dag.ScriptProcessor`): it reads
the source through its source cache, asks for the cached file's path and asks whether the script exists. Each of
the three names the cache entry by parsing the script's path as a URI (`SourceFile.get_cache_path` ->
`snakemake.common.parse_uri` -> `smart_open.parse_uri`), and smart_open 7 builds a new namedtuple class for
every parse it returns (`collections.namedtuple` compiles the class each time). On the BayLing 2 preset
(12,225 jobs with a script, 36,689 parses of the same few dozen paths) that was about 5 s of a 19 s dry run:
the largest share of planning that our rules cost over a plain shell workflow.

A parse depends only on the path string, and the tuple it returns is immutable, so `parse_each_path_once()`
(called once by the Snakefile) puts a memo in front of the function the source cache calls. Only the source
cache's name for it is replaced: conda environments and containers keep calling Snakemake's function as
before, and what every parse returns is unchanged. A Snakemake laid out differently (the source cache no
longer calling `snakemake.common.parse_uri` by that name) is left as it is; `tests/test_script_sources.py`
fails then, so that an upgrade of the pin looks again.
"""

from __future__ import annotations

import functools

#: distinct paths remembered; a workflow has a few dozen scripts, conda files and Snakefiles
MEMO_SIZE = 4096


def parse_each_path_once() -> bool:
    """Memoize the URI parse of Snakemake's source cache; returns whether it is memoized now (False: this
    Snakemake's source cache does not call `snakemake.common.parse_uri`, and nothing was changed)."""
    from snakemake import common, sourcecache

    current = getattr(sourcecache, "parse_uri", None)
    if getattr(current, "__wrapped__", None) is common.parse_uri:  # already memoized (a second parse)
        return True
    if current is not common.parse_uri:
        return False
    sourcecache.parse_uri = functools.lru_cache(maxsize=MEMO_SIZE)(current)
    return True
