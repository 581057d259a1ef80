"""Shrinking a failing op list for the differential tests (delta debugging by removal)."""

from __future__ import annotations


def ddmin(replay, normalise, ops, budget: int):
    """A shortest op list (by removal) that still fails, and its failure.

    replay(ops): None, or (index of the failing op, message); normalise(ops): the list with
    ops that no longer make sense removed; budget: at most this many replays while shrinking.
    """
    left = [budget]

    def fails(candidate):
        if left[0] <= 0:
            return None
        left[0] -= 1
        return replay(candidate)

    ops = normalise(ops)
    res = replay(ops)
    assert res is not None
    ops = ops[:res[0] + 1]          # nothing after the first mismatch matters
    n = 2
    while len(ops) >= 2:
        chunk = max(1, len(ops) // n)
        reduced = False
        for start in range(0, len(ops), chunk):
            candidate = normalise(ops[:start] + ops[start + chunk:])
            if candidate and len(candidate) < len(ops):
                res = fails(candidate)
                if res is not None:
                    ops = candidate[:res[0] + 1]
                    n = max(n - 1, 2)
                    reduced = True
                    break
        if not reduced:
            if chunk == 1:
                break
            n = min(len(ops), n * 2)
    return ops, replay(ops)
