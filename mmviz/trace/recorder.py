"""Record a world's events into an immutable Trace.

The recorder is the world's one hook. At each event it snapshots what it can see: the VMAs
(only those the mm's change journal names are looked at again, so an event costs what
changed, not the size of the address space), the held locks, the modelled call stack with
the model source line of every frame, and the pending mmap_action, which it reads — as a
debugger reads locals — from the `desc` of the innermost modelled frame that has one.
"""

from __future__ import annotations

import functools
import os
import sys
from types import MappingProxyType

from ..model.errno import Errno, is_err
from ..model.locking import vma_is_write_locked, vma_lock_name
from ..model.mm_types import vm_area_desc
from ..model.validate import validate_mm
from .events import Event, Result, Trace, Violation
from .snapshot import (DETACHED, HIDDEN, INFLIGHT, RMAP, WRITE_LOCKED, Frame, PendingAction,
                       Snapshot, TaskView, VmaView)
from .vmaset import VmaSet

_PKG_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_MODEL_DIR = os.path.join(_PKG_ROOT, "model")
_SKIP_FILES = {os.path.join(_MODEL_DIR, "instrument.py"), os.path.join(_MODEL_DIR, "world.py"),
               os.path.join(_MODEL_DIR, "locking.py")}
_FRAMED = ("call", "return", "hook")


def vma_view(vma, in_tree: bool) -> VmaView:
    """The frozen view of one vm_area_struct."""
    f, av, ops = vma.vm_file, vma.anon_vma, vma.vm_ops
    state = ((WRITE_LOCKED if vma_is_write_locked(vma) else 0)
             | (DETACHED if vma.vm_refcnt == 0 else 0) | (HIDDEN if vma.hidden else 0)
             | (RMAP if vma.shared_rb is not None else 0) | (0 if in_tree else INFLIGHT))
    return VmaView(vma.id, vma.vm_start, vma.vm_end, vma.vm_pgoff, vma.vm_flags,
                   f.label if f is not None else None, av.id if av is not None else None,
                   ops.name if ops is not None else None, state, vma.vm_mm.owner_pid)


class _Space:
    """What the recorder knows of one mm: the view of each VMA and the current VmaSet."""

    def __init__(self, mm):
        self.mm = mm
        self.views: dict = {}          # vm_area_struct -> VmaView in `vmas`
        self.vmas = VmaSet()
        self.resets = None

    def refresh(self) -> tuple:
        """Bring `vmas` up to date with the mm; return (new or changed views, ids gone)."""
        mm = self.mm
        journal = mm.vma_journal
        if self.resets is None:                 # the first look: every VMA, all in the tree
            journal.clear()
            self.resets = mm.vma_journal_resets
            self.views = {vma: vma_view(vma, True) for vma in mm.mm_mt}
            self.vmas = VmaSet(self.views.values())
            return tuple(self.vmas), ()
        if self.resets != mm.vma_journal_resets:
            candidates = set(self.views) | set(mm.mm_mt)
            self.resets = mm.vma_journal_resets
        else:
            candidates = set(journal)
        journal.clear()
        if not candidates:
            return (), ()
        removed, added, gone = [], [], []
        tree = mm.mm_mt
        for vma in candidates:
            old = self.views.get(vma)
            new = None if vma.freed or vma.vm_mm is not mm else vma_view(vma, tree.contains(vma))
            if old == new:
                continue
            if new is None:
                gone.append(vma.id)
            if old is not None:
                removed.append(old)
                del self.views[vma]
            if new is not None:
                added.append(new)
                self.views[vma] = new
        self.vmas = self.vmas.with_changes(removed, added)
        return tuple(sorted(added, key=lambda v: v.id)), tuple(sorted(gone))


def _frames(world, frame) -> tuple:
    """Pair the task's modelled stack with Python frames to find each function's current line."""
    py = []
    while frame is not None:
        code = frame.f_code
        fname = code.co_filename
        if fname.startswith(_MODEL_DIR) and fname not in _SKIP_FILES:
            py.append((code.co_name, fname, frame.f_lineno))
        frame = frame.f_back
    out = []
    i = 0
    for name in reversed(world.current.stack):
        entry = None
        for j in range(i, len(py)):
            if py[j][0] == name:
                entry = py[j]
                # A variant's body of this function (`_finish_v3` of mmap_action_finish),
                # running inside it: its line is the kernel-mirror line, not the dispatch.
                body = next((py[k] for k in range(i, j) if py[k][1] == entry[1]
                             and _mirrors_kernel(py[k][1], py[k][0])), None)
                if body is not None:
                    entry = (entry[0], entry[1], body[2])
                i = j + 1
                break
        if entry is None:
            out.append(Frame(name))
        else:
            out.append(Frame(name, _relative(entry[1]), entry[2], _kernel_source(entry[1], name)))
    return tuple(reversed(out))


@functools.lru_cache(maxsize=None)
def _mirrors_kernel(path, name) -> bool:
    """A model helper whose body mirrors kernel code (one variant's version of a kernel
    function, its docstring says 'Mirrors ...'), as opposed to model wiring."""
    mod = sys.modules.get("mmviz.model." + os.path.splitext(os.path.basename(path))[0])
    fn = getattr(mod, name, None) if mod is not None else None
    return (name.startswith("_") and getattr(fn, "__kernel_source__", None) is None
            and "Mirrors " in (getattr(fn, "__doc__", None) or ""))


@functools.lru_cache(maxsize=None)
def _relative(path):
    return os.path.relpath(path, os.path.dirname(_PKG_ROOT))


@functools.lru_cache(maxsize=None)
def _kernel_source(path, name):
    mod = sys.modules.get("mmviz.model." + os.path.splitext(os.path.basename(path))[0])
    fn = getattr(mod, name, None) if mod is not None else None
    return getattr(fn, "__kernel_source__", None)


def _pending(frame):
    """The action of the descriptor the innermost modelled frame holds, if its file prepares."""
    while frame is not None:
        if frame.f_code.co_filename.startswith(_MODEL_DIR):
            desc = frame.f_locals.get("desc")
            if isinstance(desc, vm_area_desc):
                f = desc.file
                if f is None or f.f_op.mmap_prepare is None:
                    return None
                a = desc.action
                params = a.remap or a.simple_ioremap or a.map_kernel or {}
                return PendingAction(a.type, a.hide_from_rmap_until_complete,
                                     a.success_hook is not None, a.error_hook is not None,
                                     tuple((k, v if isinstance(v, (int, str)) else repr(v))
                                           for k, v in sorted(params.items()) if k != "pages"))
        frame = frame.f_back
    return None


def _task_locks(task) -> tuple:
    """Names of the locks a task holds; a mm's VMA write locks belong to its mmap_lock writer."""
    mm = task.mm
    vmas = mm.vma_write_locked if mm.mmap_lock.owner is task or mm.mmap_lock.owner is None else ()
    return (tuple(lock.name for lock in task.held_locks)
            + tuple(vma_lock_name(v) for v in vmas))


def _locks(world) -> tuple:
    return _task_locks(world.current)


def _tasks(world) -> tuple:
    """A TaskView of every task, when there is more than one (else nothing)."""
    if len(world.tasks) < 2:
        return ()
    sched = world.sched
    out = []
    for t in world.tasks:
        if sched is None:          # before or after the scheduled programs
            state = ("hung" if t.hung else "done" if t.returned
                     else "running" if t is world.current else "runnable")
        elif t is world.current and not t.hung and t.waiting_for is None:
            state = "running"
        elif t is world.current and not t.hung:
            state = "waiting"          # it is going to sleep on the lock (this event says so)
        else:
            state = sched.state_of(t)
        wait = t.waiting_for
        out.append(TaskView(t.pid, t.comm, state, wait[0].name if wait else None,
                            wait[1] if wait else None, _task_locks(t), t.tgid, _touching(t)))
    return tuple(out)


def _touching(task) -> tuple:
    """The VMAs a task has locked: for write (the mmap_lock writer's), or read (a fault)."""
    mm = task.mm
    out = []
    if mm.mmap_lock.owner is task:
        out += [(v.id, "write") for v in mm.vma_write_locked]
    out += [(s.vma_id, "read") for s in task.held_locks if getattr(s, "vma_id", None) is not None]
    return tuple(out)


class Recorder:
    """Install with `Recorder(world)`; call `finish(...)` to get the Trace."""

    def __init__(self, world, validate: bool = False):
        self.world = world
        self.validate = validate
        self.events: list[Event] = []
        self.violations: list[Violation] = []
        self._spaces: dict = {}           # mm -> _Space, in the order processes appeared
        self._action_done = False
        self.initial = self._snapshot(None)
        world.hook = self

    def _refresh(self) -> tuple:
        """Bring every address space up to date; (views set, ids gone) over all of them."""
        for t in self.world.tasks:
            if t.mm not in self._spaces:
                self._spaces[t.mm] = _Space(t.mm)
        added, gone = [], []
        for space in self._spaces.values():
            a, g = space.refresh()
            added.extend(a)
            gone.extend(g)
        return tuple(added), tuple(gone)

    def _snapshot(self, frame) -> Snapshot:
        world = self.world
        added, gone = self._refresh()
        stack = _frames(world, frame) if frame is not None else ()
        pending = None if (frame is None or self._action_done) else _pending(frame)
        spaces = list(self._spaces.values())
        main = spaces[0]
        others = tuple(sorted((s.mm.owner_pid, s.vmas) for s in spaces[1:] if s.vmas))
        return Snapshot(main.vmas, _locks(world), stack, pending, main.mm.map_count,
                        world.vm_committed, added, gone, others, _tasks(world))

    def __call__(self, world, kind, fn, what, data):
        if kind == "call" and fn in ("__mmap_region", "compat_vma_mmap"):
            self._action_done = False
        elif kind == "return" and fn == "mmap_action_complete":
            self._action_done = True
        seq = len(self.events)
        snap = self._snapshot(sys._getframe(1))
        depth = max(len(world.current.stack) - (kind in _FRAMED), 0)
        self.events.append(Event(seq, kind, fn, what, depth, MappingProxyType(dict(data)),
                                 snap, world.current.pid))
        if kind == "violation":
            self.violations.append(Violation(data["violation"], data["lock"], seq))
        if self.validate:
            validate_mm(world, in_flight=True)

    def detach(self):
        if self.world.hook is self:
            self.world.hook = None

    def finish(self, scenario, title, description, ret, outcome=None, extra_config=None,
               schedule=(), task_results=()) -> Trace:
        self.detach()
        world = self.world
        if outcome is None:
            outcome = "deadlock" if world.hung else ("error" if ret is not None and is_err(ret) else "ok")
        errno = _errno_name(ret) if ret is not None and is_err(ret) else None
        cfg = {"mmu": world.config.mmu, "max_map_count": world.config.max_map_count}
        cfg.update(extra_config or {})
        files = tuple(f.label for f in world.all_files())
        tasks = (tuple((t.pid, t.comm, t.tgid) for t in world.tasks)
                 if len(world.tasks) > 1 else ())
        return Trace(scenario, title, description, world.config.kernel, MappingProxyType(cfg),
                     Result(ret, errno, outcome), tuple(self.events), tuple(self.violations),
                     self.initial, self._snapshot(None), files, tasks, tuple(schedule),
                     tuple(task_results))


def _errno_name(ret) -> str:
    try:
        return Errno(-ret).name
    except ValueError:
        return f"E{-ret}"


def take_snapshot(world) -> Snapshot:
    """The state of a world now, with no events (for pictures of a world outside a trace):
    process 1's VMAs, and in `others` those of every other process (forked children).

    Given a process handle (World.fork()'s Process), the snapshot is that process's
    address space alone. Reads every VMA and leaves the change journals alone."""
    task = getattr(world, "task", None)
    if task is not None:
        mm = task.mm
        return Snapshot(VmaSet(vma_view(v, True) for v in mm.mm_mt), (), (), None,
                        mm.map_count, world.world.vm_committed)
    mms = []
    for t in world.tasks:
        if t.mm not in mms:
            mms.append(t.mm)
    main = mms[0]
    vmas = VmaSet(vma_view(v, True) for v in main.mm_mt)
    others = tuple(sorted((mm.owner_pid, VmaSet(vma_view(v, True) for v in mm.mm_mt))
                          for mm in mms[1:] if len(mm.mm_mt)))
    return Snapshot(vmas, _locks(world), (), None, main.map_count, world.vm_committed,
                    others=others)
