"""`random.Random.shuffle` and `.sample`, the same results from the same generator, vectorised with NumPy.

CPython's `shuffle` and `sample` spend about a microsecond per element in Python bytecode: for a
3-million-record mixture that is seconds. The results depend only on the list's length and on the
Mersenne Twister's 32-bit outputs, which NumPy's `MT19937` produces identically from the same state.
Each draw is CPython's `_randbelow(n)`: take `getrandbits(n.bit_length())` (one 32-bit output shifted
right) and redraw while it is `>= n`. Here the outputs are drawn in blocks: a value below the smallest
bound it could meet is accepted and one at or above the largest is rejected whatever happened before it,
so only the rare value in between is settled one at a time. The generator is left in the state CPython's
own call leaves it in, so later draws from it are unchanged too.
"""

from __future__ import annotations

import math
import random

import numpy as np

_SCALAR = 64  # fewer steps than this, or bounds this small: one draw at a time


class _Stream:
    """The generator's 32-bit outputs, read ahead in blocks; `commit` puts the generator where CPython's
    calls would have left it."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.version, internal, self.gauss = rng.getstate()
        self.start = np.random.MT19937()
        self.start.state = {
            "bit_generator": "MT19937",
            "state": {"key": np.array(internal[:624], dtype=np.uint32), "pos": internal[624]},
        }
        self.gen = np.random.MT19937()
        self.gen.state = self.start.state
        self.buffer = np.zeros(0, dtype=np.uint64)
        self.used = 0  # outputs consumed
        self.at = 0  # index of the next unconsumed output in buffer

    def values(self, n: int) -> np.ndarray:
        """The next `n` unconsumed outputs (not consumed yet)."""
        if self.at + n > len(self.buffer):
            self.buffer = np.concatenate([self.buffer[self.at :], self.gen.random_raw(max(n, 1 << 16))])
            self.at = 0
        return self.buffer[self.at : self.at + n]

    def consume(self, n: int) -> None:
        self.at += n
        self.used += n

    def commit(self) -> None:
        gen = np.random.MT19937()
        gen.state = self.start.state
        if self.used:
            gen.random_raw(self.used)
        state = gen.state["state"]
        self.rng.setstate((self.version, (*(int(x) for x in state["key"]), int(state["pos"])), self.gauss))


def _below_one(stream: _Stream, bound: int) -> int:
    shift = 32 - bound.bit_length()
    while True:
        r = int(stream.values(1)[0]) >> shift
        stream.consume(1)
        if r < bound:
            return r


def _below(stream: _Stream, bounds: np.ndarray) -> np.ndarray:
    """[rng._randbelow(b) for b in bounds] for non-increasing bounds >= 1 (all below 2**32)."""
    total = len(bounds)
    out = np.empty(total, dtype=np.int64)
    descending = -bounds  # ascending, for searchsorted
    t = 0
    while t < total:
        top = int(bounds[t])
        if total - t < _SCALAR or top < _SCALAR:
            for i in range(t, total):
                out[i] = _below_one(stream, int(bounds[i]))
            break
        k = top.bit_length()
        # steps whose bound has the same bit length (one shift), at most about sqrt(2**k) of them: values
        # between the block's smallest and largest bound are rare then
        same = int(np.searchsorted(descending[t:], -(1 << (k - 1)), side="right"))
        length = min(same, max(_SCALAR, math.isqrt(1 << k)))
        v = (stream.values(length) >> np.uint64(32 - k)).astype(np.int64)
        accept = v < bounds[t : t + length]  # below any bound a step at this position can have
        reject = v >= top  # at or above every one
        unsure = np.flatnonzero(~(accept | reject))
        first = int(unsure[0]) if len(unsure) else length
        kept = v[:first][accept[:first]]
        out[t : t + len(kept)] = kept
        t += len(kept)
        stream.consume(first)
        if first < length:  # settle the value in between with the bound of the step it meets
            if v[first] < bounds[t]:
                out[t] = v[first]
                t += 1
            stream.consume(1)
    return out


def _fisher_yates(n: int, js: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The swaps `for t, j in enumerate(js): m = n - 1 - t; swap x[m], x[j]` (j <= m) on x = range(n), without a
    Python loop: (what each step leaves at its position m, what each position holds before its own step).

    Position m is final after its step (later steps touch only smaller positions); it takes what position
    j held just then: what the latest earlier step that swapped into j left there, else j's own element.
    A step m that swaps into j < m leaves there what m held before its step: following these "who wrote
    here last" links up to a position nobody wrote to gives that element (pointer jumping)."""
    steps = np.arange(n - 1, n - 1 - len(js), -1, dtype=np.int64)
    writes = js < steps
    writer, target = steps[writes], js[writes]
    order = np.argsort(target * n + writer)  # by target, then by writer ascending (the keys are distinct)
    writer, target = writer[order], target[order]
    first = np.ones(len(target), dtype=bool)
    first[1:] = target[1:] != target[:-1]
    held = np.arange(n, dtype=np.int64)  # position -> the latest step that wrote into it, or itself
    held[target[first]] = writer[first]
    while True:
        nxt = held[held]
        if np.array_equal(nxt, held):
            break
        held = nxt
    taken = held[steps]  # a step that swaps with itself keeps what its position held
    # a step that swaps into j takes what the step before it (in time) that wrote into j left there
    earlier = np.full(len(writer), -1, dtype=np.int64)
    same = ~first[1:]
    earlier[:-1][same] = writer[1:][same]
    taken[n - 1 - writer] = np.where(earlier >= 0, held[np.maximum(earlier, 0)], target)
    return taken, held


def permutation(rng: random.Random, n: int) -> np.ndarray:
    """p with [x[i] for i in p] == x after rng.shuffle(x) for any list x of length n; rng advances as there."""
    if n < 2 or n >= 1 << 31:
        order = list(range(n))
        rng.shuffle(order)
        return np.asarray(order, dtype=np.int64)
    stream = _Stream(rng)
    js = _below(stream, np.arange(n, 1, -1, dtype=np.int64))
    stream.commit()
    taken, held = _fisher_yates(n, js)
    result = np.empty(n, dtype=np.int64)
    result[n - 1 : 0 : -1] = taken
    result[0] = held[0]
    return result


def sample_indices(rng: random.Random, n: int, k: int) -> np.ndarray:
    """The indices rng.sample(population, k) picks from a population of length n; rng advances as there."""
    setsize = 21
    if k > 5:
        setsize += 4 ** math.ceil(math.log(k * 3, 4))  # as CPython chooses between its two methods
    if not 0 <= k <= n or n > setsize or n >= 1 << 31:
        # k < n / 3 draws below n, a repeat drawn again: CPython's own loop is about as fast
        return np.asarray(rng.sample(range(n), k), dtype=np.int64)
    # CPython takes pool[j] and moves the last pool element into j: the swaps of a partial shuffle
    stream = _Stream(rng)
    js = _below(stream, np.arange(n, n - k, -1, dtype=np.int64))
    stream.commit()
    return _fisher_yates(n, js)[0]
