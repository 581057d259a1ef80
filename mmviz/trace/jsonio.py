"""Trace JSON: versioned, byte-identical across runs, strictly checked on load.

See docs/trace-format.md. One event per line keeps golden-file diffs readable.
"""

from __future__ import annotations

import json
from types import MappingProxyType

from ..model.errors import InputError
from .events import EVENT_KINDS, VIOLATION_KINDS, Event, Result, Trace, Violation
from .snapshot import Frame, PendingAction, Snapshot, VmaView

FORMAT = "mmviz-trace"
VERSION = 1
MAX_BYTES = 64 * 1024 * 1024


class TraceFormatError(InputError):
    """The text is not a trace this version of mmviz can read."""


_VMA_FIELDS = ("id", "start", "end", "pgoff", "flags", "perms", "file", "anon_vma",
               "write_locked", "detached", "hidden", "special", "vm_ops")


def _vma_dict(v: VmaView) -> dict:
    d = {k: getattr(v, k) for k in _VMA_FIELDS}
    d["flags"] = list(v.flags)
    return d


def _snapshot_dict(s: Snapshot, with_stack_and_locks=False) -> dict:
    d = {"vmas": [_vma_dict(v) for v in s.vmas],
         "i_mmap": {label: list(ids) for label, ids in s.i_mmap},
         "map_count": s.map_count,
         "committed_pages": s.committed_pages,
         "pending_action": None if s.pending_action is None else {
             "type": s.pending_action.type,
             "hide_from_rmap_until_complete": s.pending_action.hide_from_rmap_until_complete,
             "has_success_hook": s.pending_action.has_success_hook,
             "has_error_hook": s.pending_action.has_error_hook,
             "params": {k: v for k, v in s.pending_action.params}}}
    if with_stack_and_locks:
        d["locks_held"] = list(s.locks_held)
    return d


def _event_dict(e: Event) -> dict:
    return {"seq": e.seq, "kind": e.kind, "fn": e.fn, "depth": e.depth, "msg": e.msg,
            "locks_held": list(e.snapshot.locks_held),
            "stack": [{"fn": f.fn, "file": f.file, "line": f.line, "kernel_source": f.kernel_source}
                      for f in e.snapshot.stack],
            "data": {k: e.data[k] for k in sorted(e.data)},
            "snapshot": _snapshot_dict(e.snapshot)}


def _dumps(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def trace_to_json(t: Trace) -> str:
    head = {"format": FORMAT, "version": VERSION, "scenario": t.scenario, "title": t.title,
            "description": t.description, "kernel": t.kernel, "config": dict(t.config),
            "result": {"ret": t.result.ret, "errno": t.result.errno, "outcome": t.result.outcome},
            "files": list(t.files)}
    lines = ["{"]
    for k, v in head.items():
        lines.append(f"{_dumps(k)}:{_dumps(v)},")
    lines.append(f'"initial":{_dumps(_snapshot_dict(t.initial, True))},')
    lines.append('"events":[')
    for i, e in enumerate(t.events):
        lines.append(_dumps(_event_dict(e)) + ("," if i + 1 < len(t.events) else ""))
    lines.append("],")
    lines.append('"violations":' + _dumps([{"kind": v.kind, "lock": v.lock, "seq": v.seq,
                                             "message": v.message} for v in t.violations]) + ",")
    lines.append(f'"final":{_dumps(_snapshot_dict(t.final, True))}')
    lines.append("}")
    return "\n".join(lines) + "\n"


# --- loading ------------------------------------------------------------------------------------

def _need(obj, key, types, where):
    if not isinstance(obj, dict) or key not in obj:
        raise TraceFormatError(f"trace JSON: {where} has no '{key}'")
    v = obj[key]
    if not isinstance(v, types) or (isinstance(v, bool) and bool not in (types if isinstance(types, tuple) else (types,))):
        raise TraceFormatError(f"trace JSON: {where}.{key} has the wrong type ({type(v).__name__})")
    return v


def _load_vma(d, where) -> VmaView:
    if not isinstance(d, dict):
        raise TraceFormatError(f"trace JSON: {where} is not an object")
    ints = {"id", "start", "end", "pgoff"}
    for k in _VMA_FIELDS:
        if k not in d:
            raise TraceFormatError(f"trace JSON: {where} has no '{k}'")
        if k in ints and (not isinstance(d[k], int) or isinstance(d[k], bool)):
            raise TraceFormatError(f"trace JSON: {where}.{k} must be an integer")
    if not isinstance(d["flags"], list) or not all(isinstance(x, str) for x in d["flags"]):
        raise TraceFormatError(f"trace JSON: {where}.flags must be a list of VM_* names")
    return VmaView(d["id"], d["start"], d["end"], d["pgoff"], tuple(d["flags"]), str(d["perms"]),
                   d["file"], d["anon_vma"], bool(d["write_locked"]), bool(d["detached"]),
                   bool(d["hidden"]), bool(d["special"]), d["vm_ops"])


def _load_snapshot(d, where, locks=None, stack=()) -> Snapshot:
    vmas = tuple(_load_vma(v, f"{where}.vmas[{i}]")
                 for i, v in enumerate(_need(d, "vmas", list, where)))
    i_mmap = _need(d, "i_mmap", dict, where)
    pa = d.get("pending_action")
    pending = None
    if pa is not None:
        if not isinstance(pa, dict):
            raise TraceFormatError(f"trace JSON: {where}.pending_action is not an object")
        pending = PendingAction(str(_need(pa, "type", str, where)),
                                bool(pa.get("hide_from_rmap_until_complete")),
                                bool(pa.get("has_success_hook")), bool(pa.get("has_error_hook")),
                                tuple(sorted((pa.get("params") or {}).items())))
    if locks is None:
        locks = d.get("locks_held", [])
    return Snapshot(vmas, tuple((k, tuple(v)) for k, v in i_mmap.items()), tuple(locks), stack,
                    pending, _need(d, "map_count", int, where), d.get("committed_pages", 0))


def trace_from_json(text) -> Trace:
    """Parse and check a trace; TraceFormatError (one line) says what is wrong."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str):
        raise TraceFormatError("trace JSON must be text")
    if len(text) > MAX_BYTES:
        raise TraceFormatError(f"trace JSON is {len(text)} bytes; the limit is {MAX_BYTES}")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise TraceFormatError(f"trace JSON is not valid JSON: {e.msg} at line {e.lineno}") from None
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise TraceFormatError(f"not an mmviz trace: 'format' must be {FORMAT!r}")
    if obj.get("version") != VERSION:
        raise TraceFormatError(f"trace version {obj.get('version')!r} is not supported; this "
                               f"mmviz reads version {VERSION}")
    res = _need(obj, "result", dict, "trace")
    events = []
    for i, e in enumerate(_need(obj, "events", list, "trace")):
        where = f"events[{i}]"
        kind = _need(e, "kind", str, where)
        if kind not in EVENT_KINDS:
            raise TraceFormatError(f"trace JSON: {where}.kind {kind!r} is not one of {EVENT_KINDS}")
        stack = tuple(Frame(str(_need(f, "fn", str, where)), f.get("file"), f.get("line"),
                            f.get("kernel_source")) for f in _need(e, "stack", list, where))
        snap = _load_snapshot(_need(e, "snapshot", dict, where), where + ".snapshot",
                              _need(e, "locks_held", list, where), stack)
        seq = _need(e, "seq", int, where)
        if seq != i:
            raise TraceFormatError(f"trace JSON: {where}.seq is {seq}, expected {i}")
        events.append(Event(seq, kind, str(_need(e, "fn", str, where)), _need(e, "depth", int, where),
                            str(_need(e, "msg", str, where)),
                            MappingProxyType(dict(_need(e, "data", dict, where))), snap))
    violations = []
    for i, v in enumerate(_need(obj, "violations", list, "trace")):
        kind = _need(v, "kind", str, f"violations[{i}]")
        if kind not in VIOLATION_KINDS:
            raise TraceFormatError(f"trace JSON: violations[{i}].kind {kind!r} is unknown")
        violations.append(Violation(kind, str(_need(v, "lock", str, f"violations[{i}]")),
                                    _need(v, "seq", int, f"violations[{i}]"),
                                    str(_need(v, "message", str, f"violations[{i}]"))))
    ret = res.get("ret")
    if ret is not None and (not isinstance(ret, int) or isinstance(ret, bool)):
        raise TraceFormatError("trace JSON: result.ret must be an integer or null")
    return Trace(str(_need(obj, "scenario", str, "trace")), str(obj.get("title", "")),
                 str(obj.get("description", "")), str(_need(obj, "kernel", str, "trace")),
                 MappingProxyType(dict(_need(obj, "config", dict, "trace"))),
                 Result(ret, res.get("errno"), str(res.get("outcome", ""))), tuple(events),
                 tuple(violations), _load_snapshot(_need(obj, "initial", dict, "trace"), "initial"),
                 _load_snapshot(_need(obj, "final", dict, "trace"), "final"),
                 tuple(obj.get("files", [])))
