"""Where the stepper's jump buttons go: the events that matter to a reader of a trace.

Pure functions of a trace (no widgets), so tests and other front-ends can use them.
"""

from __future__ import annotations

import bisect

JUMP_KINDS = ("hook", "lock", "error", "violation", "step")


def _is_error_ret(e) -> bool:
    ret = e.data.get("ret")
    return isinstance(ret, str) and ret.startswith("-E")


def targets(trace) -> dict:
    """{'hook': [seq...], 'lock': [...], 'error': [...], 'violation': [...], 'step': [...]}.

    - hook: a driver hook is called (f_op->mmap_prepare, vm_ops->mapped, success_hook, ...)
    - lock: the set of held locks changes
    - error: an error is born (an error or warning event, or the first event of a chain of
      returns carrying -E..., e.g. the hook that fails; not every caller that passes it on)
    - violation: the lock checker reports a rule broken
    - step: a numbered step of spec §2.3 (S0..S11, E1, E2) starts
    """
    out = {k: [] for k in JUMP_KINDS}
    prev_locks = tuple(trace.initial.locks_held)
    prev_err = False
    for e in trace.events:
        if e.kind == "hook" and e.data.get("phase") == "enter":
            out["hook"].append(e.seq)
        locks = tuple(e.snapshot.locks_held)
        if locks != prev_locks or e.kind in ("lock", "unlock"):
            out["lock"].append(e.seq)
        prev_locks = locks
        err = _is_error_ret(e) and e.kind in ("return", "hook")
        if e.kind in ("error", "warn") or (err and not prev_err):
            out["error"].append(e.seq)
        prev_err = err
        if e.kind == "violation":
            out["violation"].append(e.seq)
        if e.step:
            out["step"].append(e.seq)
    return out


def next_target(seqs, i):
    """The first target after i, or None."""
    k = bisect.bisect_right(seqs, i)
    return seqs[k] if k < len(seqs) else None


def prev_target(seqs, i):
    """The last target before i, or None."""
    k = bisect.bisect_left(seqs, i)
    return seqs[k - 1] if k > 0 else None


def step_at(trace, i):
    """The spec step (S0..S11, E1, E2) event i belongs to: the last step label at or before it."""
    for e in reversed(trace.events[: i + 1]):
        if e.step:
            return e
    return None
