"""Traces and snapshots in other tools' formats.

- `perfetto_json(trace)`: the Chrome Trace Event Format (JSON object form), which the
  Perfetto UI (ui.perfetto.dev) and chrome://tracing open. One process; a "call stack"
  track with a slice per modelled call and hook; one track per lock with a slice per hold;
  hooks, errors, warnings and lock violations as instant events; map_count as a counter.
  Time is the event number: event N is at N ms (ts = N * 1000 µs).
- `vma_csv(snapshot)`: one row per VMA, for a spreadsheet or pandas.
"""

from __future__ import annotations

import csv
import io
import json

from .narration import sentence, violation_message

PID = 1
TID_CALLS = 1
TID_HOOKS = 2
TID_EVENTS = 3
TID_LOCK0 = 10
US_PER_EVENT = 1000


def _ts(seq: int) -> int:
    return max(seq, 0) * US_PER_EVENT


def perfetto_json(trace) -> str:
    """The trace as Chrome Trace Event Format JSON ({"traceEvents": [...], ...})."""
    mode = "nommu" if not trace.config.get("mmu", True) else "mmu"
    meta = [
        {"name": "process_name", "ph": "M", "ts": 0, "pid": PID, "tid": 0,
         "args": {"name": f"mmviz {trace.scenario} ({trace.kernel}, {mode})"}},
        {"name": "process_labels", "ph": "M", "ts": 0, "pid": PID, "tid": 0,
         "args": {"labels": trace.title}},
    ]
    _thread(meta, TID_CALLS, "call stack", 0)
    _thread(meta, TID_HOOKS, "hooks (via pointer)", 1)
    _thread(meta, TID_EVENTS, "errors, warnings, violations", 2)
    body = []            # (ts, order, event): order puts ends before begins at one instant
    _calls_and_marks(trace, body)
    _map_count(trace, body)
    _locks(trace, meta, body)
    body.sort(key=lambda t: (t[0], t[1]))
    doc = {
        "traceEvents": meta + [ev for _, _, ev in body],
        "displayTimeUnit": "ms",
        "otherData": {"generator": "mmviz", "scenario": trace.scenario, "kernel": trace.kernel,
                      "config": dict(trace.config), "result": trace.result.outcome,
                      "time_unit": "1 ms = one trace event"},
    }
    return json.dumps(doc, indent=None, separators=(",", ":")) + "\n"


def _thread(meta, tid, name, order):
    meta.append({"name": "thread_name", "ph": "M", "ts": 0, "pid": PID, "tid": tid,
                 "args": {"name": name}})
    meta.append({"name": "thread_sort_index", "ph": "M", "ts": 0, "pid": PID, "tid": tid,
                 "args": {"sort_index": order}})


def _calls_and_marks(trace, body):
    """The call stack track (B/E slices), hook instants, and error/warning/violation marks."""
    open_calls = []
    for e in trace.events:
        ts = _ts(e.seq)
        if e.kind == "call" or (e.kind == "hook" and e.data.get("phase") == "enter"):
            cat = "hook" if e.kind == "hook" else "call"
            body.append((ts, 1, {"name": e.fn, "cat": cat, "ph": "B", "ts": ts, "pid": PID,
                                 "tid": TID_CALLS, "args": {"seq": e.seq, "msg": sentence(e, trace.kernel)}}))
            open_calls.append(e.fn)
            if e.kind == "hook":
                body.append((ts, 2, {"name": e.fn, "cat": "hook", "ph": "i", "s": "t", "ts": ts,
                                     "pid": PID, "tid": TID_HOOKS,
                                     "args": {"seq": e.seq, "msg": sentence(e, trace.kernel)}}))
        elif e.kind == "return" or (e.kind == "hook" and e.data.get("phase") == "exit"):
            _close_calls(e, ts, open_calls, body)
        elif e.kind in ("error", "warn", "violation"):
            body.append((ts, 2, _mark(trace, e, ts)))
    end_ts = _ts(len(trace.events))
    for fn in reversed(open_calls):          # a deadlocked task never returns
        body.append((end_ts, 0, {"name": fn, "ph": "E", "ts": end_ts, "pid": PID,
                                 "tid": TID_CALLS, "args": {"never_returned": True}}))


def _close_calls(e, ts, open_calls, body):
    if e.fn not in open_calls:
        return
    # close anything left open above it, then it (B/E must nest on a track)
    while open_calls:
        fn = open_calls.pop()
        body.append((ts, 0, {"name": fn, "ph": "E", "ts": ts, "pid": PID, "tid": TID_CALLS,
                             "args": {"seq": e.seq, "ret": e.data.get("ret")} if fn == e.fn else {}}))
        if fn == e.fn:
            break


def _mark(trace, e, ts):
    from .narration_html import VIOLATION_TITLES
    ev = {"name": f"{e.kind}: {e.fn}", "cat": e.kind, "ph": "i", "ts": ts, "pid": PID,
          "tid": TID_EVENTS, "args": {"seq": e.seq, "msg": sentence(e, trace.kernel)}}
    if e.kind == "violation":
        ev["name"] = VIOLATION_TITLES.get(e.data.get("violation"), "VIOLATION") + \
            f": {e.data.get('lock', '')}"
        ev["s"] = "g"            # a global instant: a line across every track
        ev["args"].update({"violation": e.data.get("violation"), "lock": e.data.get("lock")})
    else:
        ev["s"] = "t"
    return ev


def _map_count(trace, body):
    last = None
    for e in trace.events:
        mc = e.snapshot.map_count
        if mc != last:
            body.append((_ts(e.seq), 2, {"name": "map_count", "ph": "C", "ts": _ts(e.seq),
                                         "pid": PID, "tid": 0, "args": {"map_count": mc}}))
            last = mc


def _locks(trace, meta, body):
    """One track per lock, a slice per hold, the violations on their lock's track."""
    from .narration_html import VIOLATION_TITLES
    from .timeline import lanes, lock_intervals
    intervals = lock_intervals(trace)
    end_ts = _ts(len(trace.events))
    tid_of = {}
    for k, name in enumerate(x for x in lanes(trace, intervals) if x not in
                             ("hooks (via pointer)", "errors · warnings")):
        tid_of[name] = TID_LOCK0 + k
        _thread(meta, TID_LOCK0 + k, name, 10 + k)
    for iv in intervals:
        tid = tid_of.get(iv.lock)
        if tid is None:
            # A trace of several tasks names its lanes per task (timeline.task_plan); the
            # export keeps one track per lock, made here for the locks those lanes rename.
            tid = tid_of[iv.lock] = TID_LOCK0 + len(tid_of)
            _thread(meta, tid, iv.lock, 10 + len(tid_of))
        start = _ts(iv.start)
        stop = _ts(iv.end) if iv.end is not None else end_ts
        args = {"mode": iv.mode} if iv.mode else {}
        if iv.start < 0:
            args["held_before_trace"] = True
        body.append((start, 1, {"name": iv.lock, "cat": "lock", "ph": "B", "ts": start, "pid": PID,
                                "tid": tid, "args": args}))
        body.append((stop, 0, {"name": iv.lock, "cat": "lock", "ph": "E", "ts": stop, "pid": PID,
                               "tid": tid, "args": {} if iv.end is not None else {"never_released": True}}))
    for v in trace.violations:
        tid = tid_of.get(v.lock)
        if tid is not None:
            body.append((_ts(v.seq), 2, {"name": VIOLATION_TITLES.get(v.kind, v.kind), "cat": "violation",
                                         "ph": "i", "s": "t", "ts": _ts(v.seq), "pid": PID, "tid": tid,
                                         "args": {"message": violation_message(trace, v)}}))


CSV_FIELDS = ("id", "start", "end", "size", "perms", "pgoff", "file", "flags", "anon_vma",
              "vm_ops", "write_locked", "detached", "hidden", "special")


def vma_csv(snapshot) -> str:
    """Header + one row per VMA: start/end in hex (as in /proc/PID/maps), size in bytes, pgoff
    in pages, flags joined with '|', booleans as 0/1, empty for none."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_FIELDS)
    for v in snapshot.vmas:
        w.writerow([v.id, f"{v.start:#x}", f"{v.end:#x}", v.end - v.start, v.perms, v.pgoff,
                    v.file or "", "|".join(v.flags), "" if v.anon_vma is None else v.anon_vma,
                    v.vm_ops or "", int(v.write_locked), int(v.detached), int(v.hidden),
                    int(v.special)])
    return buf.getvalue()
