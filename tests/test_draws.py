"""draws.permutation / sample_indices give what random.Random.shuffle / sample give, and leave the generator
in the same state; stream._coins gives compose.is_validation."""

import random

import numpy as np
import pytest

from polyinstruct.mixtures import compose, draws, stream

SIZES = [0, 1, 2, 3, 5, 63, 64, 65, 100, 127, 128, 129, 1000, 4095, 4096, 4097, 65_537, 250_003]


@pytest.mark.parametrize("n", SIZES)
def test_permutation_is_cpythons_shuffle(n):
    x = [f"r{i}" for i in range(n)]
    for seed in ("1:multilingual:train", "42:sampled:valid", "7:x:y"):
        theirs, ours = random.Random(seed), random.Random(seed)
        shuffled = list(x)
        theirs.shuffle(shuffled)
        assert [x[i] for i in draws.permutation(ours, n)] == shuffled
        assert ours.getstate() == theirs.getstate() and ours.random() == theirs.random()


@pytest.mark.parametrize("n", SIZES)
def test_sample_indices_are_cpythons_sample(n):
    x = [f"r{i}" for i in range(n)]
    for k in sorted({0, 1, 5, 6, 7, n // 7, n // 3, n // 2, n - 1, n} & set(range(n + 1))):
        theirs, ours = random.Random(f"s:{n}:{k}"), random.Random(f"s:{n}:{k}")
        assert [x[i] for i in draws.sample_indices(ours, n, k)] == theirs.sample(x, k), k
        assert ours.getstate() == theirs.getstate()


def test_draws_continue_one_generator_as_cpython_does():
    theirs, ours = random.Random("7:downsampled:train"), random.Random("7:downsampled:train")
    pool = list(range(30_000))
    picked = theirs.sample(pool, 10_000)
    theirs.shuffle(picked)
    ours_picked = np.asarray(pool)[draws.sample_indices(ours, len(pool), 10_000)]
    assert ours_picked[draws.permutation(ours, len(ours_picked))].tolist() == picked


def test_coins_are_compose_validation_coins():
    import pyarrow as pa

    ids = [f"pa-{i:07d}" for i in range(20_000)] + ["é中😀", "", "x" * 300, "pa-0000001"]

    encoded = pa.array(ids, pa.string()).dictionary_encode()

    class Table:  # what stream._Rows gives _coins
        parts = [None, None]
        offsets = np.array([0, 10_000, len(ids)])
        id_dictionary, id_codes = encoded.dictionary, encoded.indices.to_numpy()

    for seed, fraction in [(42, 0.05), (1, 0.5), (7, 0.01), (3, 1.0), (3, 0.0)]:
        coins = np.concatenate(stream._coins(Table, seed, fraction))
        assert coins.tolist() == [compose.is_validation(i, seed, fraction) for i in ids]
