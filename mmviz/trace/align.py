"""Aligning two traces of the same story (e.g. v3 and v4 of one scenario), event by event.

Two levels, both `difflib.SequenceMatcher`:
1. the spec steps: each trace is cut into segments at its step labels (S0..S11, E1, E2);
   the label sequences are aligned, so S10 faces S10 even when the events before differ;
2. inside aligned segments, events are matched on (kind, fn).
A matched pair is "same" when its sentence and locks agree and "changed" otherwise; an
unmatched event is "only-a" or "only-b". Pure: no widgets.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

STATUSES = ("same", "changed", "only-a", "only-b")


@dataclass(frozen=True)
class Row:
    a: int | None            # event seq in trace A, or None
    b: int | None
    status: str              # one of STATUSES
    step: str | None         # the spec step this row belongs to
    violation: bool          # either side's event is a lock-rule violation
    why: str = ""            # what differs, in words

    @property
    def differs(self) -> bool:
        return self.status != "same" or self.violation


def _segments(trace):
    """[(label, [seq, ...])]: cut before every event that announces a spec step."""
    segs = [("start", [])]
    for e in trace.events:
        if e.step:
            segs.append((e.step, []))
        segs[-1][1].append(e.seq)
    return [s for s in segs if s[1]]


def _key(e):
    return (e.kind, e.fn)


def _pair_status(ea, eb):
    diffs = []
    if (ea.what, dict(ea.data)) != (eb.what, dict(eb.data)):
        diffs.append("different sentence")
    if ea.snapshot.locks_held != eb.snapshot.locks_held:
        diffs.append("different locks held")
    if ea.data.get("ret") != eb.data.get("ret"):
        diffs.append(f"returns {ea.data.get('ret')} vs {eb.data.get('ret')}")
    return ("changed" if diffs else "same"), "; ".join(diffs)


def _align_events(ta, tb, sa, sb, step, rows):
    ea = [ta.events[i] for i in sa]
    eb = [tb.events[i] for i in sb]
    sm = difflib.SequenceMatcher(None, [_key(e) for e in ea], [_key(e) for e in eb],
                                 autojunk=False)
    for op, a0, a1, b0, b1 in sm.get_opcodes():
        if op == "equal":
            for x, y in zip(ea[a0:a1], eb[b0:b1]):
                status, why = _pair_status(x, y)
                rows.append(Row(x.seq, y.seq, status, x.step or step,
                                x.kind == "violation" or y.kind == "violation", why))
            continue
        for x in ea[a0:a1]:
            rows.append(Row(x.seq, None, "only-a", x.step or step, x.kind == "violation",
                            "only in A"))
        for y in eb[b0:b1]:
            rows.append(Row(None, y.seq, "only-b", y.step or step, y.kind == "violation",
                            "only in B"))


def align(ta, tb) -> list:
    """Rows covering every event of both traces, in order."""
    A, B = _segments(ta), _segments(tb)
    sm = difflib.SequenceMatcher(None, [s[0] for s in A], [s[0] for s in B], autojunk=False)
    rows = []
    for op, a0, a1, b0, b1 in sm.get_opcodes():
        if op == "equal":
            for (la, sa), (_, sb) in zip(A[a0:a1], B[b0:b1]):
                _align_events(ta, tb, sa, sb, la if la != "start" else None, rows)
        else:
            sa = [i for _, seqs in A[a0:a1] for i in seqs]
            sb = [i for _, seqs in B[b0:b1] for i in seqs]
            _align_events(ta, tb, sa, sb, None, rows)
    return _carry_steps(rows, ta, tb)


def _carry_steps(rows, ta, tb):
    """Give every row the step label in force at its position (for display)."""
    out, step = [], None
    for r in rows:
        e = ta.events[r.a] if r.a is not None else tb.events[r.b]
        if e.step:
            step = e.step
        out.append(Row(r.a, r.b, r.status, step, r.violation, r.why))
    return out


def differences(rows) -> list:
    """Indices of the rows a reader should look at: unmatched, changed, or a violation."""
    return [k for k, r in enumerate(rows) if r.differs]


def last_at_or_before(rows, k, side):
    """The event seq on one side ('a' or 'b') in force at row k (None: before any event)."""
    for r in reversed(rows[: k + 1]):
        seq = r.a if side == "a" else r.b
        if seq is not None:
            return seq
    return None


def summary(ta, tb, rows) -> dict:
    counts = {s: 0 for s in STATUSES}
    for r in rows:
        counts[r.status] += 1
    return {"rows": len(rows), **counts, "violation_rows": sum(r.violation for r in rows),
            "results_differ": (ta.result != tb.result)}
