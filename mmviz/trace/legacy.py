"""Reading version-1 trace files (a full snapshot and a sentence per event).

Their events become `what="legacy_text"` events whose sentence is the one stored, and their
snapshots are rebuilt as VmaSets with the changes between events worked out here.
"""

from __future__ import annotations

from types import MappingProxyType

from ..model.vm_flags import flags_from_names
from .checks import TraceFormatError, check_text, need, need_int, need_list, need_text, plain_data
from .events import EVENT_KINDS, Event, Trace
from .snapshot import DETACHED, HIDDEN, RMAP, WRITE_LOCKED, Frame, Snapshot, VmaView
from .vmaset import VmaSet

_VMA_FIELDS = ("id", "start", "end", "pgoff", "flags", "perms", "file", "anon_vma",
               "write_locked", "detached", "hidden", "special", "vm_ops")


def _view(d, where, in_rmap) -> VmaView:
    if not isinstance(d, dict):
        raise TraceFormatError(f"trace JSON: {where} is not an object")
    for k in _VMA_FIELDS:
        if k not in d:
            raise TraceFormatError(f"trace JSON: {where} has no '{k}'")
    for k in ("id", "start", "end", "pgoff"):
        need_int(d, k, where, 0, (1 << 64) - 1)
    if d["end"] <= d["start"]:
        raise TraceFormatError(f"trace JSON: {where} ends before it starts")
    names = d["flags"]
    if not isinstance(names, list) or not all(isinstance(x, str) for x in names):
        raise TraceFormatError(f"trace JSON: {where}.flags must be a list of VM_* names")
    try:
        flags = flags_from_names(names)
    except KeyError as e:
        raise TraceFormatError(f"trace JSON: {where}.flags names an unknown flag {e}") from None
    for k in ("file", "vm_ops"):
        if d[k] is not None:
            check_text(d[k], f"{where}.{k}", 1000)
    av = d["anon_vma"]
    if av is not None and (not isinstance(av, int) or isinstance(av, bool) or av < 0):
        raise TraceFormatError(f"trace JSON: {where}.anon_vma must be an id or null")
    state = ((WRITE_LOCKED if d["write_locked"] is True else 0)
             | (DETACHED if d["detached"] is True else 0) | (HIDDEN if d["hidden"] is True else 0)
             | (RMAP if d["id"] in in_rmap else 0))
    return VmaView(d["id"], d["start"], d["end"], d["pgoff"], flags, d["file"], av, d["vm_ops"],
                   state)


def _snapshot(d, where, prev_views, locks=None, stack=()) -> tuple:
    i_mmap = need(d, "i_mmap", dict, where)
    in_rmap = set()
    for ids in i_mmap.values():
        if isinstance(ids, list):
            in_rmap.update(x for x in ids if isinstance(x, int))
    views = {}
    for k, v in enumerate(need_list(d, "vmas", where)):
        view = _view(v, f"{where}.vmas[{k}]", in_rmap)
        views[view.id] = view
    if locks is None:
        locks = d.get("locks_held", [])
    if not isinstance(locks, list) or not all(isinstance(x, str) for x in locks):
        raise TraceFormatError(f"trace JSON: {where}.locks_held must be a list of lock names")
    from .jsonio import load_pending
    set_views = tuple(v for i, v in sorted(views.items()) if prev_views.get(i) != v)
    del_ids = tuple(sorted(i for i in prev_views if i not in views))
    snap = Snapshot(VmaSet(views.values()), tuple(locks), stack, load_pending(d, where),
                    need_int(d, "map_count", where, -(1 << 31), 1 << 31),
                    d.get("committed_pages", 0) if isinstance(d.get("committed_pages", 0), int) else 0,
                    set_views, del_ids)
    return snap, views


def _frames(e, where) -> tuple:
    out = []
    for f in need_list(e, "stack", where, 256):
        fn = need_text(f, "fn", where, 300)
        file, line, ks = f.get("file"), f.get("line"), f.get("kernel_source")
        if not (file is None or isinstance(file, str)) or not (ks is None or isinstance(ks, str)) \
                or not (line is None or (isinstance(line, int) and not isinstance(line, bool))):
            raise TraceFormatError(f"trace JSON: {where}.stack has a malformed frame")
        out.append(Frame(fn, file, line, ks))
    return tuple(out)


def trace_from_v1(obj) -> Trace:
    from .jsonio import load_head, load_violations
    head = load_head(obj)
    initial, views = _snapshot(need(obj, "initial", dict, "trace"), "initial", {})
    events = []
    for i, e in enumerate(need_list(obj, "events", "trace")):
        where = f"events[{i}]"
        if not isinstance(e, dict):
            raise TraceFormatError(f"trace JSON: {where} is not an object")
        kind = need_text(e, "kind", where, 20)
        if kind not in EVENT_KINDS:
            raise TraceFormatError(f"trace JSON: {where}.kind {kind!r} is not one of {EVENT_KINDS}")
        if need_int(e, "seq", where, 0, 1 << 31) != i:
            raise TraceFormatError(f"trace JSON: {where}.seq is {e['seq']}, expected {i}")
        data = plain_data(need(e, "data", dict, where), f"{where}.data")
        data["text"] = need_text(e, "msg", where, 20000)
        snap, views = _snapshot(need(e, "snapshot", dict, where), f"{where}.snapshot", views,
                                need_list(e, "locks_held", where), _frames(e, where))
        events.append(Event(i, kind, need_text(e, "fn", where, 300), "legacy_text",
                            need_int(e, "depth", where, 0, 10000), MappingProxyType(data), snap))
    final, _ = _snapshot(need(obj, "final", dict, "trace"), "final", views)
    files = need_list(obj, "files", "trace") if "files" in obj else []
    return Trace(*head, tuple(events), load_violations(obj, events), initial, final,
                 tuple(check_text(f, "files", 1000) for f in files))
