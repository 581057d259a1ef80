"""Frozen views of a world at one instant: the VMAs, the rmap, the locks, the call stack."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VmaView:
    """One VMA as a picture needs it."""

    id: int
    start: int
    end: int
    pgoff: int
    flags: tuple          # VM_* names
    perms: str            # "rw-p"
    file: str | None      # file label, e.g. "/memfd:x#1"
    anon_vma: int | None
    write_locked: bool
    detached: bool
    hidden: bool          # linked into i_mmap while its i_mmap_rwsem is held (hide flag)
    special: bool         # VM_SPECIAL: never merges
    vm_ops: str | None

    @property
    def pages(self) -> int:
        return (self.end - self.start) >> 12

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
class Snapshot:
    vmas: tuple                    # VmaView, address order (detached in-flight VMAs included)
    i_mmap: tuple                  # (file label, (vma ids...)) pairs
    locks_held: tuple              # lock names
    stack: tuple                   # Frame, outermost first
    pending_action: PendingAction | None
    map_count: int
    committed_pages: int = 0

    def vma(self, ident):
        for v in self.vmas:
            if v.id == ident:
                return v
        return None

    def i_mmap_of(self, file_label) -> tuple:
        for label, ids in self.i_mmap:
            if label == file_label:
                return ids
        return ()
