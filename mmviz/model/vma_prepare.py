"""The lock bracket around a change of VMA ranges: vma_prepare() and vma_complete() (mm/vma.c).

A merge or a split changes VMAs that rmap walkers can see, so it first takes the file's
i_mmap_rwsem and the anon_vma lock (`vma_prepare`), changes the ranges and the tree, and
then (`vma_complete`) links an inserted VMA into the file rmap, drops VMAs merged away from
it, and releases the locks in reverse order.
"""

from __future__ import annotations

from .file_ops import __remove_shared_vm_struct, __vma_link_file, fput
from .instrument import kernel_function
from .locking import i_mmap_lock_write, i_mmap_unlock_write
from .rmap import anon_vma_lock_write, anon_vma_unlock_write, unlink_anon_vmas


class vma_prepare_state:
    """struct vma_prepare (mm/vma.h): what vma_prepare() locked and vma_complete() finishes."""

    __slots__ = ("vma", "mapping", "anon_vma", "insert", "remove")

    def __init__(self, vma, mapping=None, anon_vma=None, insert=None, remove=()):
        self.vma = vma                # the VMA whose range changes
        self.mapping = mapping        # the file rmap to lock (None for anonymous VMAs)
        self.anon_vma = anon_vma      # the anon_vma whose lock to take
        self.insert = insert          # a VMA a split inserts: it joins the file rmap
        self.remove = tuple(remove)   # VMAs a merge deletes

    @property
    def world(self):
        return self.vma.world


@kernel_function("mm/vma.c", "simplified", quiet=True)
def vma_prepare(vp):
    """Take the file rmap lock, then the anon_vma lock (the nesting order of mm/rmap.c).

    The kernel also takes the VMAs out of the interval trees here; the model's i_mmap is
    keyed by VMA, not by range, so nothing has to be taken out.
    """
    if vp.mapping is not None:
        i_mmap_lock_write(vp.mapping)
    if vp.anon_vma is not None:
        anon_vma_lock_write(vp.anon_vma)


@kernel_function("mm/vma.c", "simplified", quiet=True)
def vma_complete(vp, mm):
    """Link the inserted VMA into the file rmap, free the merged-away ones, drop the locks."""
    world = mm.world
    if vp.insert is not None and vp.mapping is not None:
        __vma_link_file(vp.insert, vp.mapping)
    for r in vp.remove:
        if r.vm_file is not None:
            __remove_shared_vm_struct(r, r.vm_file.f_mapping)
    if vp.anon_vma is not None:
        anon_vma_unlock_write(vp.anon_vma)
    if vp.mapping is not None:
        i_mmap_unlock_write(vp.mapping)
    # The removed VMAs are torn down after the locks are dropped: unlink_anon_vmas()
    # takes the anon_vma lock itself.
    for r in vp.remove:
        r.vm_refcnt = 0
        if r.vm_file is not None:
            fput(r.vm_file)
        if r.anon_vma is not None or r.anon_vma_chain:
            unlink_anon_vmas(r)
        r.freed = True
        mm.map_count -= 1
        world.emit("vma", "merged_away", vma=r.id)
