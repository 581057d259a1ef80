"""Record a world's events into an immutable Trace.

The recorder is the world's one hook. At each event it copies the state it can see —
the VMA tree (detached in-flight VMAs included), each file's i_mmap, the held locks, the
modelled call stack with the model source line of every frame — into frozen snapshots.
"""

from __future__ import annotations

import functools
import os
import sys
from types import MappingProxyType

from ..model.errno import Errno, is_err
from ..model.locking import vma_is_write_locked, vma_lock_name
from ..model.proc_maps import vma_perms
from ..model.validate import validate_mm
from ..model.vm_flags import VM_SPECIAL, flag_names
from .events import Event, Result, Trace, Violation
from .snapshot import Frame, PendingAction, Snapshot, VmaView

_PKG_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_MODEL_DIR = os.path.join(_PKG_ROOT, "model")
_SKIP_FILES = {os.path.join(_MODEL_DIR, "instrument.py"), os.path.join(_MODEL_DIR, "world.py"),
               os.path.join(_MODEL_DIR, "locking.py")}


def _vma_view(vma) -> VmaView:
    f = vma.vm_file
    return VmaView(
        id=vma.id, start=vma.vm_start, end=vma.vm_end, pgoff=vma.vm_pgoff,
        flags=tuple(flag_names(vma.vm_flags)), perms=vma_perms(vma),
        file=f.label if f is not None else None,
        anon_vma=vma.anon_vma.id if vma.anon_vma is not None else None,
        write_locked=vma_is_write_locked(vma), detached=vma.vm_refcnt == 0,
        hidden=vma.hidden, special=bool(vma.vm_flags & VM_SPECIAL),
        vm_ops=vma.vm_ops.name if vma.vm_ops is not None else None)


def _pending(world):
    desc = world.inflight.get("desc")
    if desc is None:
        return None
    a = desc.action
    params = a.remap or a.simple_ioremap or a.map_kernel or {}
    return PendingAction(a.type, a.hide_from_rmap_until_complete, a.success_hook is not None,
                         a.error_hook is not None,
                         tuple((k, v if isinstance(v, (int, str)) else repr(v))
                               for k, v in sorted(params.items()) if k != "pages"))


def _frames(world, frame) -> tuple:
    """Pair the world's modelled stack with Python frames to find each function's current line."""
    py = []
    while frame is not None:
        code = frame.f_code
        fname = code.co_filename
        if fname.startswith(_MODEL_DIR) and fname not in _SKIP_FILES:
            py.append((code.co_name, fname, frame.f_lineno))
        frame = frame.f_back
    out = []
    i = 0
    for name in reversed(world.stack):
        entry = None
        for j in range(i, len(py)):
            if py[j][0] == name:
                entry = py[j]
                i = j + 1
                break
        if entry is None:
            out.append(Frame(name))
        else:
            out.append(Frame(name, _relative(entry[1]), entry[2], _kernel_source(entry[1], name)))
    return tuple(reversed(out))


@functools.lru_cache(maxsize=None)
def _relative(path):
    return os.path.relpath(path, os.path.dirname(_PKG_ROOT))


@functools.lru_cache(maxsize=None)
def _kernel_source(path, name):
    mod = sys.modules.get("mmviz.model." + os.path.splitext(os.path.basename(path))[0])
    fn = getattr(mod, name, None) if mod is not None else None
    return getattr(fn, "__kernel_source__", None)


def take_snapshot(world, frame=None) -> Snapshot:
    mm = world.mm
    vmas = tuple(_vma_view(v) for v in mm.mm_mt)
    i_mmap = []
    for f in world.all_files():
        ids = tuple(sorted(f.f_mapping.i_mmap))
        if ids and (f.label, ids) not in i_mmap:
            i_mmap.append((f.label, ids))
    locks = [lock.name for lock in world.held_locks]
    locks += [vma_lock_name(v) for v in mm.vma_write_locked]
    stack = _frames(world, frame) if frame is not None else ()
    return Snapshot(vmas, tuple(i_mmap), tuple(locks), stack, _pending(world), mm.map_count,
                    world.vm_committed)


class Recorder:
    """Install with `Recorder(world)`; call `finish(...)` to get the Trace."""

    def __init__(self, world, validate: bool = False):
        self.world = world
        self.validate = validate
        self.events: list[Event] = []
        self.violations: list[Violation] = []
        self.initial = take_snapshot(world)
        world.hook = self

    def __call__(self, world, kind, fn, msg, data):
        seq = len(self.events)
        snap = take_snapshot(world, sys._getframe(1))
        self.events.append(Event(seq, kind, fn, max(len(world.stack) - (kind in ("call", "return", "hook")), 0),
                                 msg, MappingProxyType(dict(data)), snap))
        if kind == "violation":
            self.violations.append(Violation(data["violation"], data["lock"], seq, msg))
        if self.validate:
            validate_mm(world, in_flight=True)

    def detach(self):
        if self.world.hook is self:
            self.world.hook = None

    def finish(self, scenario, title, description, ret, outcome=None, extra_config=None) -> Trace:
        self.detach()
        world = self.world
        if outcome is None:
            outcome = "deadlock" if world.hung else ("error" if ret is not None and is_err(ret) else "ok")
        errno = Errno(-ret).name if ret is not None and is_err(ret) else None
        cfg = {"mmu": world.config.mmu, "max_map_count": world.config.max_map_count}
        cfg.update(extra_config or {})
        files = tuple(f.label for f in world.all_files())
        return Trace(scenario, title, description, world.config.kernel, MappingProxyType(cfg),
                     Result(ret, errno, outcome), tuple(self.events), tuple(self.violations),
                     self.initial, take_snapshot(world), files)
