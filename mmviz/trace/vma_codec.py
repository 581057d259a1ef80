"""VMA views as compact JSON arrays, and the per-event changes a version-2 trace stores.

One VMA is `[id, start, end, pgoff, vm_flags, file, anon_vma, vm_ops, state]`, plus a tenth
field, the pid of its process, when that is not 1: `file` and `vm_ops` index the trace's
`files` and `vm_ops` tables (or are null), `state` is the VmaView state bits.
docs/trace-format.md describes every field.
"""

from __future__ import annotations

from ..model.vm_flags import FLAG_BITS
from .checks import TraceFormatError, check_text, need_list
from .snapshot import VmaView
from .vmaset import VmaSet

_KNOWN_FLAGS = 0
for _name, _bit in FLAG_BITS:
    _KNOWN_FLAGS |= _bit
_U64 = (1 << 64) - 1


class VmaCodec:
    """Encodes and decodes VMA views against a trace's file and vm_ops tables."""

    def __init__(self, files, vm_ops):
        self.tasks = {}              # pid -> (comm, tgid), for a version-3 trace
        self.files = list(files)
        self.vm_ops = list(vm_ops)
        self._file_ix = {f: i for i, f in enumerate(self.files)}
        self._ops_ix = {o: i for i, o in enumerate(self.vm_ops)}

    @classmethod
    def for_trace(cls, t):
        """The tables for writing `t`: its files, then any file or vm_ops a view names."""
        files, ops = list(t.files), []
        seen_f, seen_o = set(files), set()
        snaps = [t.initial, *(e.snapshot for e in t.events), t.final]
        for i, s in enumerate(snaps):
            views = [v for _, vs in s.spaces for v in vs] if i == 0 else s.set_views
            for v in views:
                if v.file is not None and v.file not in seen_f:
                    seen_f.add(v.file)
                    files.append(v.file)
                if v.vm_ops is not None and v.vm_ops not in seen_o:
                    seen_o.add(v.vm_ops)
                    ops.append(v.vm_ops)
        return cls(files, ops)

    @classmethod
    def from_json(cls, obj):
        files = [check_text(f, f"files[{i}]", 1000) for i, f in enumerate(need_list(obj, "files", "trace", 1 << 20))]
        ops = [check_text(o, f"vm_ops[{i}]", 200) for i, o in enumerate(need_list(obj, "vm_ops", "trace", 1 << 16))]
        return cls(files, ops)

    def encode(self, v: VmaView) -> list:
        a = [v.id, v.start, v.end, v.pgoff, v.vm_flags,
             None if v.file is None else self._file_ix[v.file], v.anon_vma,
             None if v.vm_ops is None else self._ops_ix[v.vm_ops], v.state]
        if v.mm != 1:
            a.append(v.mm)
        return a

    def decode(self, a, where) -> VmaView:
        if not isinstance(a, list) or len(a) not in (9, 10):
            raise TraceFormatError(f"trace JSON: {where} must be a list of 9 or 10 VMA fields")
        vid, start, end, pgoff, flags, f, av, ops, state = a[:9]
        mm = a[9] if len(a) == 10 else 1
        if not isinstance(mm, int) or isinstance(mm, bool) or not 1 <= mm < 1 << 22:
            raise TraceFormatError(f"trace JSON: {where}.pid must be a process id")
        for name, x, hi in (("id", vid, 1 << 40), ("start", start, _U64), ("end", end, _U64),
                            ("pgoff", pgoff, _U64), ("vm_flags", flags, _U64), ("state", state, 31)):
            if not isinstance(x, int) or isinstance(x, bool) or not 0 <= x <= hi:
                raise TraceFormatError(f"trace JSON: {where}.{name} must be an integer 0..{hi}")
        if end <= start:
            raise TraceFormatError(f"trace JSON: {where} ends before it starts")
        if flags & ~_KNOWN_FLAGS:
            raise TraceFormatError(f"trace JSON: {where}.vm_flags has unknown bits {flags & ~_KNOWN_FLAGS:#x}")
        return VmaView(vid, start, end, pgoff, flags, self._entry(self.files, f, where, "file"),
                       self._anon(av, where), self._entry(self.vm_ops, ops, where, "vm_ops"),
                       state, mm)

    @staticmethod
    def _entry(table, i, where, name):
        if i is None:
            return None
        if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < len(table):
            raise TraceFormatError(f"trace JSON: {where}.{name} is not an index of the {name} table")
        return table[i]

    @staticmethod
    def _anon(av, where):
        if av is not None and (not isinstance(av, int) or isinstance(av, bool) or not 0 <= av < 1 << 40):
            raise TraceFormatError(f"trace JSON: {where}.anon_vma must be an id or null")
        return av

    def apply(self, prev: dict, d: dict, where, index: dict) -> tuple:
        """(next {pid: VmaSet}, views set, ids deleted) from a state's "set" and "del"
        lists; `index` (VMA id -> view in `prev`) is updated to the next state."""
        sets = [self.decode(a, f"{where}.set[{k}]") for k, a in enumerate(need_list(d, "set", where))]
        dels = need_list(d, "del", where)
        if len({v.id for v in sets}) != len(sets):
            raise TraceFormatError(f"trace JSON: {where}.set repeats a VMA id")
        removed, added = {}, {}
        for k, x in enumerate(dels):
            if not isinstance(x, int) or isinstance(x, bool) or x not in index:
                raise TraceFormatError(f"trace JSON: {where}.del[{k}] is not a VMA of the previous state")
            old = index.pop(x)
            removed.setdefault(old.mm, []).append(old)
        for v in sets:
            old = index.get(v.id)
            if old is not None:
                removed.setdefault(old.mm, []).append(old)
            index[v.id] = v
            added.setdefault(v.mm, []).append(v)
        spaces = dict(prev)
        for pid in removed.keys() | added.keys():
            spaces[pid] = spaces.get(pid, VmaSet()).with_changes(removed.get(pid, ()),
                                                                  added.get(pid, ()))
        return spaces, tuple(sets), tuple(dels)
