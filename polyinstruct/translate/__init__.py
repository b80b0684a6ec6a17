"""Machine translation of instruction records, one shard at a time.

Engines share one interface (`Engine.translate_records`); `translate_shard` runs an engine on
a shard, checks each output and applies the QA policy, counting every outcome.
"""

from __future__ import annotations

from polyinstruct.translate.engines import Engine
from polyinstruct.translate.registry import make_engine
from polyinstruct.translate.shards import merge_shards, select_shard, translate_shard

__all__ = ["Engine", "make_engine", "merge_shards", "select_shard", "translate_shard"]
