"""transformers 4.57 (the lock) and 5.x (the GPU images) spell some training arguments differently.

Each helper is checked against both spellings (the argument names each version's TrainingArguments has),
and what it returns for the installed version is handed to TRL's SFTConfig, which must accept it and
mean the same thing.
"""

from __future__ import annotations

import pytest

from polyinstruct import compat
from polyinstruct.io import InputError

# the relevant fields of TrainingArguments in each version (4.57.6 and 5.17.0, read from their dataclasses)
V4 = frozenset({"warmup_ratio", "warmup_steps", "group_by_length", "length_column_name"})
V5 = frozenset({"warmup_steps", "train_sampling_strategy", "length_column_name"})


def test_warmup_share_in_both_spellings():
    assert compat.warmup_arguments(0.03, V4) == {"warmup_ratio": 0.03}
    assert compat.warmup_arguments(0.03, V5) == {"warmup_steps": 0.03}  # below 1: a share of the steps
    assert compat.warmup_arguments(0, V5) == {"warmup_steps": 0.0}
    assert compat.warmup_arguments(None, V4) == {"warmup_ratio": 0.0}


def test_a_whole_share_cannot_be_said_in_v5():
    assert compat.warmup_arguments(1.0, V4) == {"warmup_ratio": 1.0}
    with pytest.raises(InputError, match="train.warmup_ratio"):
        compat.warmup_arguments(1.0, V5)  # warmup_steps=1.0 would mean one step


def test_length_grouping_in_both_spellings():
    assert compat.length_grouping_arguments(True, V4) == {"group_by_length": True}
    assert compat.length_grouping_arguments(False, V4) == {"group_by_length": False}
    assert compat.length_grouping_arguments(True, V5) == {"train_sampling_strategy": "group_by_length"}
    assert compat.length_grouping_arguments(False, V5) == {"train_sampling_strategy": "random"}


def test_the_installed_version_takes_what_the_helpers_say(tmp_path):
    from trl import SFTConfig

    config = SFTConfig(
        output_dir=str(tmp_path),
        use_cpu=True,
        report_to=[],
        **compat.warmup_arguments(0.1),
        **compat.length_grouping_arguments(True),
    )
    assert config.get_warmup_steps(200) == 20
    fields = compat.training_argument_names()
    if "group_by_length" in fields:
        assert config.group_by_length is True
    else:
        assert config.train_sampling_strategy == "group_by_length"
    plain = SFTConfig(output_dir=str(tmp_path), use_cpu=True, report_to=[], **compat.length_grouping_arguments(False))
    assert getattr(plain, "group_by_length", False) is False
    assert getattr(plain, "train_sampling_strategy", "random") == "random"
