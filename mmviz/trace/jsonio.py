"""Trace JSON: versioned, byte-identical across runs, every field checked on load.

See docs/trace-format.md. Version 2 writes the initial VMAs once and, per event, only the
VMAs that changed, so a trace of one call in a 30,000-VMA process stays small. One event
per line keeps golden-file diffs readable. Version 1 files (a full snapshot per event)
still load (`legacy.py`).

The loader trusts nothing: sizes, nesting and node counts are capped before parsing, and
every field is checked for type and range, so a hostile or truncated file raises one
`TraceFormatError` with a one-line reason and never a crash further on.
"""

from __future__ import annotations

import json
from types import MappingProxyType

from ..model.variants import KERNELS
from .checks import (MAX_BYTES, MAX_NODES, TraceFormatError, check_nodes, check_text, need,
                     need_int, need_list, need_opt_int, need_opt_text, need_text, plain_data)
from .events import EVENT_KINDS, OUTCOMES, VIOLATION_KINDS, Event, Result, Trace, Violation
from .snapshot import Frame, PendingAction, Snapshot, TaskView
from .vma_codec import VmaCodec
from .vmaset import VmaSet

FORMAT = "mmviz-trace"
VERSION = 3                   # written when a trace has several tasks; one task writes 2
VERSIONS = (1, 2, 3)
TASK_STATES = ("running", "runnable", "waiting", "done", "hung")

__all__ = ["FORMAT", "VERSION", "MAX_BYTES", "MAX_NODES", "TraceFormatError", "trace_to_json",
           "trace_from_json"]


# --- writing ------------------------------------------------------------------------------------

def _dumps(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _pending_dict(pa):
    if pa is None:
        return None
    return {"type": pa.type, "hide_from_rmap_until_complete": pa.hide_from_rmap_until_complete,
            "has_success_hook": pa.has_success_hook, "has_error_hook": pa.has_error_hook,
            "params": {k: v for k, v in pa.params}}


def _state_dict(s: Snapshot, codec, full: bool) -> dict:
    d = {"locks_held": list(s.locks_held), "map_count": s.map_count,
         "committed_pages": s.committed_pages, "pending_action": _pending_dict(s.pending_action)}
    if s.tasks:
        d["tasks"] = [[t.pid, t.state, t.waiting_for, t.mode, list(t.locks),
                       [list(x) for x in t.touching]] for t in s.tasks]
    if full:
        d["vmas"] = [codec.encode(v) for _, vs in s.spaces for v in vs]
    else:
        d["set"] = [codec.encode(v) for v in s.set_views]
        d["del"] = list(s.del_ids)
    return d


def _event_dict(e: Event, codec) -> dict:
    d = {"seq": e.seq, "task": e.task, "kind": e.kind, "fn": e.fn, "what": e.what,
         "depth": e.depth, "data": {k: e.data[k] for k in sorted(e.data)},
         "stack": [[f.fn, f.file, f.line, f.kernel_source] for f in e.snapshot.stack]}
    d.update(_state_dict(e.snapshot, codec, False))
    return d


def trace_to_json(t: Trace) -> str:
    codec = VmaCodec.for_trace(t)
    several = bool(t.tasks or t.schedule)
    head = {"format": FORMAT, "version": VERSION if several else 2, "scenario": t.scenario,
            "title": t.title, "description": t.description, "kernel": t.kernel,
            "config": dict(t.config),
            "result": {"ret": t.result.ret, "errno": t.result.errno, "outcome": t.result.outcome},
            "files": codec.files, "vm_ops": codec.vm_ops}
    if several:
        head["tasks"] = [list(x) for x in t.tasks]
        head["schedule"] = list(t.schedule)
        head["task_results"] = [list(x) for x in t.task_results]
    lines = ["{"]
    for k, v in head.items():
        lines.append(f"{_dumps(k)}:{_dumps(v)},")
    lines.append(f'"initial":{_dumps(_state_dict(t.initial, codec, True))},')
    lines.append('"events":[')
    for i, e in enumerate(t.events):
        lines.append(_dumps(_event_dict(e, codec)) + ("," if i + 1 < len(t.events) else ""))
    lines.append("],")
    lines.append('"violations":' + _dumps([{"kind": v.kind, "lock": v.lock, "seq": v.seq}
                                             for v in t.violations]) + ",")
    lines.append(f'"final":{_dumps(_state_dict(t.final, codec, False))}')
    lines.append("}")
    return "\n".join(lines) + "\n"


# --- reading ------------------------------------------------------------------------------------

def parse_json(text):
    """Decode the JSON text of a trace within the size, node and nesting limits."""
    if isinstance(text, (bytes, bytearray)):
        if len(text) > MAX_BYTES:
            raise TraceFormatError(f"trace JSON is {len(text)} bytes; the limit is {MAX_BYTES}")
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as e:
            raise TraceFormatError(f"trace JSON is not UTF-8 (byte {e.start})") from None
    if not isinstance(text, str):
        raise TraceFormatError("trace JSON must be text")
    if len(text) > MAX_BYTES:
        raise TraceFormatError(f"trace JSON is {len(text)} characters; the limit is {MAX_BYTES}")
    check_nodes(text)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise TraceFormatError(f"trace JSON is not valid JSON: {e.msg} at line {e.lineno}") from None
    except RecursionError:
        raise TraceFormatError("trace JSON nests too deeply") from None
    except ValueError as e:          # e.g. an integer with thousands of digits
        raise TraceFormatError(f"trace JSON has a value Python cannot read: {e}") from None


def trace_from_json(text) -> Trace:
    """Parse and check a trace; TraceFormatError (one line) says what is wrong."""
    obj = parse_json(text)
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise TraceFormatError(f"not an mmviz trace: 'format' must be {FORMAT!r}")
    version = obj.get("version")
    if version == 1:
        from .legacy import trace_from_v1
        return trace_from_v1(obj)
    if version not in VERSIONS:
        raise TraceFormatError(f"trace version {version!r} is not supported; this mmviz reads "
                               f"versions {', '.join(map(str, VERSIONS))}")
    return _load_v2(obj, version)


def load_head(obj):
    """The fields every version shares: (scenario, title, description, kernel, config, result)."""
    kernel = need_text(obj, "kernel", "trace", 32)
    if kernel not in KERNELS:
        raise TraceFormatError(f"trace JSON: kernel {kernel!r} is not one of {', '.join(KERNELS)}")
    config = need(obj, "config", dict, "trace")
    if len(config) > 64:
        raise TraceFormatError("trace JSON: config has too many entries")
    config = plain_data(config, "config")
    res = need(obj, "result", dict, "trace")
    ret = need_opt_int(res, "ret", "result", -(1 << 63), (1 << 64) - 1)
    errno = need_opt_text(res, "errno", "result", 32)
    outcome = need_text(res, "outcome", "result", 32)
    if outcome not in OUTCOMES:
        raise TraceFormatError(f"trace JSON: result.outcome {outcome!r} is not one of {OUTCOMES}")
    return (need_text(obj, "scenario", "trace", 200), need_text(obj, "title", "trace", 2000),
            need_text(obj, "description", "trace", 20000), kernel,
            MappingProxyType(config), Result(ret, errno, outcome))


def load_violations(obj, events) -> tuple:
    out = []
    for i, v in enumerate(need_list(obj, "violations", "trace")):
        where = f"violations[{i}]"
        kind = need_text(v, "kind", where, 40)
        if kind not in VIOLATION_KINDS:
            raise TraceFormatError(f"trace JSON: {where}.kind {kind!r} is unknown")
        seq = need_int(v, "seq", where, 0, len(events) - 1)
        if events[seq].kind != "violation":
            raise TraceFormatError(f"trace JSON: {where}.seq {seq} is not a violation event")
        out.append(Violation(kind, need_text(v, "lock", where, 500), seq))
    return tuple(out)


def load_pending(d, where):
    pa = d.get("pending_action") if isinstance(d, dict) else None
    if pa is None:
        return None
    if not isinstance(pa, dict):
        raise TraceFormatError(f"trace JSON: {where}.pending_action is not an object")
    params = pa.get("params") or {}
    if not isinstance(params, dict) or len(params) > 16:
        raise TraceFormatError(f"trace JSON: {where}.pending_action.params is not a small object")
    params = plain_data(params, f"{where}.pending_action.params")
    return PendingAction(need_text(pa, "type", where, 40),
                         bool(pa.get("hide_from_rmap_until_complete")),
                         bool(pa.get("has_success_hook")), bool(pa.get("has_error_hook")),
                         tuple(sorted(params.items())))


def _load_stack(e, where) -> tuple:
    frames = []
    for k, f in enumerate(need_list(e, "stack", where, 256)):
        w = f"{where}.stack[{k}]"
        if not isinstance(f, list) or len(f) != 4:
            raise TraceFormatError(f"trace JSON: {w} must be [fn, file, line, kernel_source]")
        fn, file, line, ks = f
        for name, v in (("fn", fn), ("file", file), ("kernel_source", ks)):
            if not (v is None and name != "fn") and not (isinstance(v, str) and len(v) <= 300):
                raise TraceFormatError(f"trace JSON: {w}.{name} must be text")
        if line is not None and (not isinstance(line, int) or isinstance(line, bool)
                                 or not 0 <= line < 1 << 31):
            raise TraceFormatError(f"trace JSON: {w}.line must be a line number")
        check_text(fn, f"{w}.fn", 300)                # and no lone surrogates
        frames.append(Frame(fn, file, line, ks))
    return tuple(frames)


def _load_state(d, where, codec, prev: dict | None, index: dict, stack=()) -> Snapshot:
    """A state; `prev` is {pid: VmaSet} of the state before (None for a full state)."""
    if not isinstance(d, dict):
        raise TraceFormatError(f"trace JSON: {where} is not an object")
    locks = tuple(check_text(x, f"{where}.locks_held", 300)
                  for x in need_list(d, "locks_held", where, 10000))
    if prev is None:
        views = [codec.decode(v, f"{where}.vmas[{k}]")
                 for k, v in enumerate(need_list(d, "vmas", where))]
        index.update((v.id, v) for v in views)
        if len(index) != len(views):
            raise TraceFormatError(f"trace JSON: {where}.vmas repeats a VMA id")
        by_pid = {}
        for v in views:
            by_pid.setdefault(v.mm, []).append(v)
        spaces = {pid: VmaSet(vs) for pid, vs in by_pid.items()}
        set_views, del_ids = tuple(views), ()
    else:
        spaces, set_views, del_ids = codec.apply(prev, d, where, index)
    others = tuple(sorted((pid, vs) for pid, vs in spaces.items() if pid != 1 and vs))
    return Snapshot(spaces.get(1, VmaSet()), locks, stack, load_pending(d, where),
                    need_int(d, "map_count", where, -(1 << 31), 1 << 31),
                    need_int(d, "committed_pages", where, -(1 << 62), 1 << 62),
                    set_views, del_ids, others, _load_tasks(d, where, codec))


def _load_tasks(d, where, codec) -> tuple:
    """The per-task state of a version-3 state (empty for one task)."""
    if "tasks" not in d:
        return ()
    table = getattr(codec, "tasks", {})
    out = []
    for k, row in enumerate(need_list(d, "tasks", where, 4096)):
        w = f"{where}.tasks[{k}]"
        if not isinstance(row, list) or len(row) != 6:
            raise TraceFormatError(f"trace JSON: {w} must be [pid, state, lock, mode, locks, "
                                   "touching]")
        pid, state, lock, mode, locks, touching = row
        if not isinstance(touching, list) or not all(
                isinstance(x, list) and len(x) == 2 and isinstance(x[0], int)
                and not isinstance(x[0], bool) and x[1] in ("read", "write") for x in touching):
            raise TraceFormatError(f"trace JSON: {w}.touching must be [[vma id, read|write]]")
        if pid not in table:
            raise TraceFormatError(f"trace JSON: {w} names a task the trace does not list")
        if state not in TASK_STATES or mode not in (None, "read", "write"):
            raise TraceFormatError(f"trace JSON: {w} has an unknown state or mode")
        if lock is not None:
            check_text(lock, f"{w}.lock", 300)
        if not isinstance(locks, list):
            raise TraceFormatError(f"trace JSON: {w}.locks must be a list")
        comm, tgid = table[pid]
        out.append(TaskView(pid, comm, state, lock, mode,
                            tuple(check_text(x, f"{w}.locks", 300) for x in locks), tgid,
                            tuple((x[0], x[1]) for x in touching)))
    return tuple(out)


def _load_task_table(obj, version) -> tuple:
    """(tasks, schedule, task_results) of a version-3 trace; empty for older versions."""
    if version < 3:
        return (), (), ()
    tasks = []
    for k, row in enumerate(need_list(obj, "tasks", "trace", 4096)):
        if (not isinstance(row, list) or len(row) != 3 or not isinstance(row[0], int)
                or isinstance(row[0], bool) or not isinstance(row[2], int)):
            raise TraceFormatError(f"trace JSON: tasks[{k}] must be [pid, comm, tgid]")
        tasks.append((row[0], check_text(row[1], f"tasks[{k}].comm", 16), row[2]))
    pids = {t[0] for t in tasks}
    schedule = need_list(obj, "schedule", "trace", 1 << 22)
    if not all(x in pids for x in schedule):
        raise TraceFormatError("trace JSON: schedule names a task the trace does not list")
    results = []
    for k, row in enumerate(need_list(obj, "task_results", "trace", 4096)):
        if not isinstance(row, list) or len(row) != 2 or row[0] not in pids or not (
                row[1] is None or (isinstance(row[1], int) and not isinstance(row[1], bool)
                                   and -(1 << 63) <= row[1] < 1 << 64)):
            raise TraceFormatError(f"trace JSON: task_results[{k}] must be [pid, return value]")
        results.append(tuple(row))
    return tuple(tasks), tuple(schedule), tuple(results)


def _spaces(snap) -> dict:
    return dict(snap.spaces)


def _load_event(e, i, codec, prev, index) -> Event:
    where = f"events[{i}]"
    if not isinstance(e, dict):
        raise TraceFormatError(f"trace JSON: {where} is not an object")
    if need_int(e, "seq", where, 0, 1 << 31) != i:
        raise TraceFormatError(f"trace JSON: {where}.seq is {e['seq']}, expected {i}")
    kind = need_text(e, "kind", where, 20)
    if kind not in EVENT_KINDS:
        raise TraceFormatError(f"trace JSON: {where}.kind {kind!r} is not one of {EVENT_KINDS}")
    data = need(e, "data", dict, where)
    if len(data) > 64:
        raise TraceFormatError(f"trace JSON: {where}.data has too many fields")
    data = plain_data(data, f"{where}.data")
    snap = _load_state(e, where, codec, prev, index, _load_stack(e, where))
    if kind == "violation" and not (isinstance(data.get("violation"), str)
                                    and isinstance(data.get("lock"), str)):
        raise TraceFormatError(f"trace JSON: {where} is a violation without violation and lock")
    return Event(i, kind, need_text(e, "fn", where, 300), need_text(e, "what", where, 80),
                 need_int(e, "depth", where, 0, 10000), MappingProxyType(data), snap,
                 need_int(e, "task", where, 1, 1 << 22))


def _load_v2(obj, version=2) -> Trace:
    head = load_head(obj)
    codec = VmaCodec.from_json(obj)
    tasks, schedule, results = _load_task_table(obj, version)
    codec.tasks = {pid: (comm, tgid) for pid, comm, tgid in tasks}
    index = {}
    initial = _load_state(need(obj, "initial", dict, "trace"), "initial", codec, None, index)
    events, prev = [], _spaces(initial)
    for i, e in enumerate(need_list(obj, "events", "trace")):
        ev = _load_event(e, i, codec, prev, index)
        events.append(ev)
        prev = _spaces(ev.snapshot)
    final = _load_state(need(obj, "final", dict, "trace"), "final", codec, prev, index)
    return Trace(*head, tuple(events), load_violations(obj, events), initial, final,
                 tuple(codec.files), tasks, schedule, results)
