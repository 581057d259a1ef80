"""Frozen views of a world at one instant: the VMAs, the locks, the call stack, the action.

A Snapshot's `vmas` is a VmaSet shared, chunk by chunk, with the snapshot before it;
`set_views` and `del_ids` say how it differs from the previous event's (the views that are
new or changed, the ids that are gone), and `changed` names both.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ..model.uapi import PAGE_SHIFT
from ..model.vm_flags import VM_SPECIAL, VmFlags, flag_names
from .vmaset import VmaSet

# VmaView.state bits (also the trace JSON's): see docs/trace-format.md.
WRITE_LOCKED, DETACHED, HIDDEN, RMAP, INFLIGHT = 1, 2, 4, 8, 16


@functools.lru_cache(maxsize=4096)
def _names(vm_flags: int) -> tuple:
    return tuple(flag_names(vm_flags))


@dataclass(frozen=True)
class VmaView:
    """One VMA as a picture needs it."""

    id: int
    start: int
    end: int
    pgoff: int
    vm_flags: int         # VM_* bits
    file: str | None      # file label, e.g. "/memfd:x#1"
    anon_vma: int | None
    vm_ops: str | None
    state: int = 0        # WRITE_LOCKED | DETACHED | HIDDEN | RMAP | INFLIGHT
    mm: int = 1           # pid of the process whose address space holds it

    @classmethod
    def build(cls, ident, start, end, pgoff=0, *, perms="rw-p", file=None, anon_vma=None,
              vm_ops=None, special=False, write_locked=False, detached=False, hidden=False,
              rmap=False, inflight=False, extra_flags=0, mm=1) -> "VmaView":
        """A view from readable arguments (for tests, benchmarks and hand-made pictures):
        the flags come from the perms string, plus VM_IO|VM_PFNMAP when `special`."""
        f = VmFlags
        flags = ((f.VM_READ if perms[0] == "r" else 0) | (f.VM_WRITE if perms[1] == "w" else 0)
                 | (f.VM_EXEC if perms[2] == "x" else 0)
                 | (f.VM_SHARED | f.VM_MAYSHARE if perms[3] == "s" else 0)
                 | f.VM_MAYREAD | f.VM_MAYWRITE | f.VM_MAYEXEC
                 | (f.VM_IO | f.VM_PFNMAP if special else 0) | extra_flags)
        state = ((WRITE_LOCKED if write_locked else 0) | (DETACHED if detached else 0)
                 | (HIDDEN if hidden else 0) | (RMAP if rmap else 0)
                 | (INFLIGHT if inflight else 0))
        return cls(ident, start, end, pgoff, flags, file, anon_vma, vm_ops, state, mm)

    @property
    def flags(self) -> tuple:
        """The VM_* names set, lowest bit first."""
        return _names(self.vm_flags)

    @property
    def perms(self) -> str:
        """The rwxp/rwxs column of /proc/PID/maps."""
        f = self.vm_flags
        return (("r" if f & VmFlags.VM_READ else "-") + ("w" if f & VmFlags.VM_WRITE else "-")
                + ("x" if f & VmFlags.VM_EXEC else "-") + ("s" if f & VmFlags.VM_MAYSHARE else "p"))

    @property
    def special(self) -> bool:
        """VM_SPECIAL: never merges."""
        return bool(self.vm_flags & VM_SPECIAL)

    @property
    def write_locked(self) -> bool:
        return bool(self.state & WRITE_LOCKED)

    @property
    def detached(self) -> bool:
        return bool(self.state & DETACHED)

    @property
    def hidden(self) -> bool:
        """Linked into i_mmap while its i_mmap_rwsem is held (the hide flag)."""
        return bool(self.state & HIDDEN)

    @property
    def rmap(self) -> bool:
        """In its file's i_mmap: rmap walkers (truncation, reclaim) can find it."""
        return bool(self.state & RMAP)

    @property
    def inflight(self) -> bool:
        """Allocated but not (or no longer) in the VMA tree: being built, or being torn down."""
        return bool(self.state & INFLIGHT)

    @property
    def pages(self) -> int:
        return (self.end - self.start) >> PAGE_SHIFT

    @property
    def label(self) -> str:
        return f"vma#{self.id}"


@dataclass(frozen=True)
class Frame:
    """One modelled function on the call stack, with the model source line running in it."""

    fn: str
    file: str | None = None      # model file, relative to the package root (mmviz/model/x.py)
    line: int | None = None
    kernel_source: str | None = None


@dataclass(frozen=True)
class PendingAction:
    type: str
    hide_from_rmap_until_complete: bool
    has_success_hook: bool
    has_error_hook: bool
    params: tuple = ()


@dataclass(frozen=True)
class TaskView:
    """One task at one instant (recorded only when a trace has more than one task)."""

    pid: int
    comm: str
    state: str                    # running, runnable, waiting, done, hung
    waiting_for: str | None       # the lock it sleeps on
    mode: str | None              # "read" or "write", for waiting_for
    locks: tuple                  # names of the locks it holds (its VMA locks included)
    tgid: int = 1                 # its process
    touching: tuple = ()          # (vma id, "write" or "read"): the VMAs it has locked

    @property
    def label(self) -> str:
        return f"{self.comm}[{self.pid}]"


@dataclass(frozen=True)
class Snapshot:
    vmas: VmaSet                   # process 1's VMAs in (start, id) order, in-flight included
    locks_held: tuple              # lock names
    stack: tuple                   # Frame, outermost first
    pending_action: PendingAction | None
    map_count: int
    committed_pages: int = 0
    set_views: tuple = ()          # views new or changed since the previous snapshot (any mm)
    del_ids: tuple = ()            # ids of VMAs gone since the previous snapshot (any mm)
    others: tuple = ()             # (pid, VmaSet) of every other process that has VMAs, by pid
    tasks: tuple = ()              # TaskView of every task, when there is more than one

    @property
    def spaces(self) -> tuple:
        """(pid, VmaSet) of every address space, process 1 first."""
        return ((1, self.vmas),) + self.others

    def space(self, pid: int) -> VmaSet:
        """The VMAs of process `pid` (an empty set if it has none, or no such process)."""
        for p, vmas in self.spaces:
            if p == pid:
                return vmas
        return VmaSet()

    @property
    def changed(self) -> frozenset:
        """VMA ids whose view differs from the previous snapshot."""
        return frozenset(v.id for v in self.set_views) | frozenset(self.del_ids)

    def vma(self, ident):
        return self.vmas.get(ident)

    @property
    def i_mmap(self) -> tuple:
        """(file label, (vma ids...)) for every file whose i_mmap holds a VMA here."""
        out = {}
        for v in self.vmas:
            if v.rmap and v.file is not None:
                out.setdefault(v.file, []).append(v.id)
        return tuple((label, tuple(sorted(ids))) for label, ids in out.items())

    def i_mmap_of(self, file_label) -> tuple:
        return tuple(sorted(v.id for v in self.vmas if v.rmap and v.file == file_label))
