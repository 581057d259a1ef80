"""Merging: new ranges (mmap) and existing ranges (mprotect), as in mm/vma.c.

Spec §5. A merge is judged on flags (less the ignore-merge bits), the same struct file,
contiguous pgoff, compatible anon_vmas and whether a VMA that would be deleted has
vm_ops->close. VM_SPECIAL mappings never merge.
"""

from __future__ import annotations

from .errno import Errno
from .errors import ModelBug
from .instrument import kernel_function
from .locking import mmap_assert_write_locked, vma_start_write
from .vma_prepare import vma_complete, vma_prepare, vma_prepare_state
from .mm_types import vma_is_fork_child, vma_pages
from .rmap import anon_vma_clone, unlink_anon_vmas
from .uapi import PAGE_SHIFT
from .vm_flags import VM_IGNORE_MERGE, VM_SPECIAL, VM_STICKY

VMA_MERGE_START = "START"
VMA_MERGE_ERROR_NOMEM = "ERROR_NOMEM"
VMA_MERGE_NOMERGE = "NOMERGE"
VMA_MERGE_SUCCESS = "SUCCESS"


class vma_iterator:
    """Where the kernel's maple-tree iterator points; only its index is modelled."""

    __slots__ = ("mm", "index")

    def __init__(self, mm, index=0):
        self.mm = mm
        self.index = index

    @property
    def world(self):
        return self.mm.world


class vma_merge_struct:
    """The vmg of mm/vma.h: inputs of a merge, rewritten to the merged span on success."""

    __slots__ = ("mm", "vmi", "prev", "middle", "next", "target", "start", "end", "pgoff",
                 "vm_flags", "file", "anon_vma", "policy", "uffd_ctx", "anon_name", "state",
                 "just_expand", "give_up_on_oom", "copied_from", "_adjust_middle_start",
                 "_adjust_next_start", "_remove_middle", "_remove_next")

    def __init__(self, mm, vmi, start, end, pgoff, vm_flags, file=None, prev=None, middle=None,
                 next=None, anon_vma=None):
        self.mm = mm
        self.vmi = vmi
        self.prev = prev
        self.middle = middle
        self.next = next
        self.target = None
        self.start = start
        self.end = end
        self.pgoff = pgoff
        self.vm_flags = vm_flags
        self.file = file
        self.anon_vma = anon_vma
        self.policy = None
        self.uffd_ctx = None
        self.anon_name = None
        self.state = VMA_MERGE_START
        self.just_expand = False
        self.give_up_on_oom = False
        self.copied_from = None        # mremap: the VMA the new range is a copy of
        self._adjust_middle_start = False
        self._adjust_next_start = False
        self._remove_middle = False
        self._remove_next = False

    @property
    def world(self):
        return self.mm.world


def VMG_VMA_STATE(vmi, prev, vma, start, end):
    """A vmg describing [start, end) of the existing VMA `vma` (mm/vma.h)."""
    vmg = vma_merge_struct(vma.vm_mm, vmi, start, end,
                           vma.vm_pgoff + ((start - vma.vm_start) >> PAGE_SHIFT), vma.vm_flags,
                           vma.vm_file, prev=prev, middle=vma, anon_vma=vma.anon_vma)
    vmg.policy = vma.vm_policy
    vmg.uffd_ctx = vma.vm_userfaultfd_ctx
    vmg.anon_name = vma.anon_name
    return vmg


def _pglen(vmg):
    return (vmg.end - vmg.start) >> PAGE_SHIFT


@kernel_function("mm/vma.c", quiet=True)
def is_mergeable_vma(vmg, merge_next: bool) -> bool:
    vma = vmg.next if merge_next else vmg.prev
    if vma.vm_policy != vmg.policy:
        return False
    # VM_SOFTDIRTY and the other sticky bits never prevent a merge.
    if (vma.vm_flags ^ vmg.vm_flags) & ~VM_IGNORE_MERGE:
        return False
    if vma.vm_file is not vmg.file:
        return False
    if vma.vm_userfaultfd_ctx != vmg.uffd_ctx:
        return False
    return vma.anon_name == vmg.anon_name


@kernel_function("mm/vma.c", quiet=True)
def is_mergeable_anon_vma(vmg, merge_next: bool) -> bool:
    """The anon_vma rule of spec §3.3. Case 1: an unfaulted target would take the source's
    anon_vma (dup_anon_vma): refused if the source, or the VMA mremap copies from, is a
    fork child. Case 2: a faulted target absorbs an unfaulted range: refused if the target
    is a fork child. Case 3: both faulted: only with the very same anon_vma."""
    tgt = vmg.next if merge_next else vmg.prev
    src = vmg.middle
    tgt_anon = tgt.anon_vma
    src_anon = vmg.anon_vma
    if tgt_anon is None and src_anon is not None:
        if vma_is_fork_child(src) or vma_is_fork_child(vmg.copied_from):
            return False
        return True
    if tgt_anon is not None and src_anon is None:
        return not vma_is_fork_child(tgt)
    return src_anon is tgt_anon


@kernel_function("mm/vma.c", quiet=True)
def can_vma_merge_before(vmg) -> bool:
    """Can the range be merged into the start of vmg.next?"""
    return (is_mergeable_vma(vmg, True) and is_mergeable_anon_vma(vmg, True)
            and vmg.next.vm_pgoff == vmg.pgoff + _pglen(vmg))


@kernel_function("mm/vma.c", quiet=True)
def can_vma_merge_after(vmg) -> bool:
    """Can the range be merged onto the end of vmg.prev?"""
    return (is_mergeable_vma(vmg, False) and is_mergeable_anon_vma(vmg, False)
            and vmg.prev.vm_pgoff + vma_pages(vmg.prev) == vmg.pgoff)


def are_anon_vmas_compatible(vma1, vma2) -> bool:
    """Either side has no anon_vma, or both share one. (mm/vma.c)"""
    a1, a2 = vma1.anon_vma, vma2.anon_vma
    return a1 is None or a2 is None or a1 is a2


def can_vma_merge_left(vmg) -> bool:
    """prev ends where the range starts and can absorb it. (mm/vma.c)"""
    return vmg.prev is not None and vmg.prev.vm_end == vmg.start and can_vma_merge_after(vmg)


def can_vma_merge_right(vmg, can_merge_left: bool) -> bool:
    """next starts where the range ends and can absorb it; with a left merge too, prev and next anon_vmas must agree.

    Mirrors mm/vma.c.
    """
    nxt = vmg.next
    if nxt is None or vmg.end != nxt.vm_start or not can_vma_merge_before(vmg):
        return False
    if not can_merge_left:
        return True
    # Both sides merge: prev and next must not carry two different anon_vmas.
    return are_anon_vmas_compatible(vmg.prev, nxt)


def can_merge_remove_vma(vma) -> bool:
    """A VMA with ->close is never deleted by a merge (its close would be skipped)."""
    return vma.vm_ops is None or vma.vm_ops.close is None


@kernel_function("mm/vma.c", quiet=True)
def dup_anon_vma(dst, src):
    """A merge makes unfaulted dst cover src's pages: dst takes src's anon_vma and a clone
    of its chain. Returns (err, dst if it was given one, else None)."""
    if src.anon_vma is not None and dst.anon_vma is None:
        dst.anon_vma = src.anon_vma
        src.anon_vma.was_cloned = True
        err = anon_vma_clone(dst, src)
        dst.world.emit("vma", "dup_anon_vma", vma=dst.id, anon_vma=src.anon_vma.id, src=src.id)
        if err:
            return err, None
        return 0, dst
    return 0, None


def _vma_iter_prealloc(world) -> int:
    if world.faults.take("prealloc"):
        world.emit("error", "prealloc_fail_merge")
        return -Errno.ENOMEM
    return 0


def _undo_dup_anon_vma(vma):
    """A merge that failed after dup_anon_vma() unlinks the clone again (the harness's
    anon_vma records that it happened)."""
    if vma.anon_vma is not None:
        vma.anon_vma.was_unlinked = True
    unlink_anon_vmas(vma)


def vma_set_range(vma, start, end, pgoff):
    """Set a VMA's start, end and pgoff together. (mm/vma.h)"""
    vma.vm_start = start
    vma.vm_end = end
    vma.vm_pgoff = pgoff


@kernel_function("mm/vma.c", "simplified")
def commit_merge(vmg) -> int:
    """Apply a merge already decided: take the rmap locks, set ranges, drop the removed VMAs."""
    world = vmg.world
    mm = vmg.mm
    vma = vmg.middle if vmg._adjust_next_start else vmg.target
    vmg.vmi.index = vmg.end if vmg._adjust_next_start else vmg.start
    if _vma_iter_prealloc(world):
        return -Errno.ENOMEM

    removed = []
    if vmg._remove_middle and vmg.middle is not None:
        removed.append(vmg.middle)
    if vmg._remove_next:
        removed.append(vmg.next)
    adjust = None
    if vmg._adjust_middle_start:
        adjust = vmg.middle
    elif vmg._adjust_next_start:
        adjust = vmg.next

    vp = vma_prepare_state(vma, vma.vm_file.f_mapping if vma.vm_file is not None else None,
                           vma.anon_vma or (adjust.anon_vma if adjust is not None else None),
                           remove=removed)
    vma_prepare(vp)

    tree = mm.mm_mt
    for r in removed:
        tree.erase(r)
    # vma_iter_store_overwrite() below writes the stored VMA over its whole new range, which
    # also drops any detached VMAs a MAP_FIXED gather left in those slots (spec §2.4).
    stored = vmg.next if vmg._adjust_next_start else vma
    tree.erase(stored)
    if vmg._adjust_next_start:
        # middle shrinks to [middle.start, vmg.end); next grows down to vmg.end.
        nxt = vmg.next
        delta = (nxt.vm_start - vmg.end) >> PAGE_SHIFT
        vma_set_range(vma, vmg.start, vmg.end, vmg.pgoff)
        vma_set_range(nxt, vmg.end, nxt.vm_end, nxt.vm_pgoff - delta)
        tree.store(stored)
        world.emit("vma", "merge_shift", vma=nxt.id, middle=vma.id, start=vma.vm_start,
                   end=vma.vm_end, next_start=nxt.vm_start)
    else:
        if adjust is not None:
            delta = (vmg.end - adjust.vm_start) >> PAGE_SHIFT
            vma_set_range(adjust, vmg.end, adjust.vm_end, adjust.vm_pgoff + delta)
        vma_set_range(vma, vmg.start, vmg.end, vmg.pgoff)
        tree.store(stored)
        world.emit("vma", "merge_span", vma=vma.id, start=vma.vm_start, end=vma.vm_end,
                   pgoff=vma.vm_pgoff)
    vma_complete(vp, mm)
    return 0


@kernel_function("mm/vma.c")
def vma_expand(vmg) -> int:
    """Expand vmg.target over [start, end), deleting vmg.next if the range reaches its end.
    An unfaulted target takes the anon_vma of a next it deletes, or of the VMA mremap
    copies from (the Jan 2026 fix, in 6.18.9: without it the moved pages had no rmap)."""
    target = vmg.target
    nxt = vmg.next
    anon_dup = None
    sticky = (vmg.vm_flags | target.vm_flags) & VM_STICKY
    mmap_assert_write_locked(vmg.mm)
    vma_start_write(target)
    remove_next = False
    if nxt is not None and target is not nxt and vmg.end == nxt.vm_end:
        sticky |= nxt.vm_flags & VM_STICKY
        remove_next = True
        if not can_merge_remove_vma(nxt):
            raise ModelBug("vma_expand asked to delete a VMA with ->close")
        _, anon_dup = dup_anon_vma(target, nxt)
    if vmg.copied_from is not None:
        _, dup = dup_anon_vma(target, vmg.copied_from)
        anon_dup = anon_dup or dup
    if remove_next:
        vma_start_write(nxt)
    if target.vm_start < vmg.start or target.vm_end > vmg.end:
        raise ModelBug("vma_expand only expands")
    if remove_next:
        vmg._remove_next = True
    if commit_merge(vmg):
        if anon_dup is not None:
            _undo_dup_anon_vma(anon_dup)
        if not vmg.give_up_on_oom:
            vmg.state = VMA_MERGE_ERROR_NOMEM
        return -Errno.ENOMEM
    target.vm_flags |= sticky
    return 0


@kernel_function("mm/vma.c")
def vma_merge_new_range(vmg):
    """Try to place the new range [start, end) into prev and/or next; return the target or None."""
    world = vmg.world
    prev, nxt, end = vmg.prev, vmg.next, vmg.end
    mmap_assert_write_locked(vmg.mm)
    vmg.state = VMA_MERGE_NOMERGE
    if vmg.vm_flags & VM_SPECIAL:
        world.emit("note", "merge_special")
        return None
    if prev is None and nxt is None:
        return None
    can_merge_left = can_vma_merge_left(vmg)
    can_merge_right = not vmg.just_expand and can_vma_merge_right(vmg, can_merge_left)
    if can_merge_right:
        vmg.end = nxt.vm_end
        vmg.target = nxt
    if can_merge_left:
        vmg.start = prev.vm_start
        vmg.target = prev
        vmg.pgoff = prev.vm_pgoff
        if can_merge_right and not can_merge_remove_vma(nxt):
            # next has ->close, so it may not be deleted: extend prev only.
            vmg.end = end
            world.emit("note", "merge_next_close", vma=nxt.id)
        if not vmg.just_expand:
            vmg.vmi.index = prev.vm_start
    if vmg.target is None:
        world.emit("note", "merge_none")
        return None
    how = ("both neighbours" if can_merge_left and can_merge_right and vmg.end != end
           else "prev" if can_merge_left else "next")
    world.emit("note", "merge_with", how=how)
    if vma_expand(vmg) == 0:
        vmg.state = VMA_MERGE_SUCCESS
        return vmg.target
    return None


@kernel_function("mm/vma.c")
def vma_merge_copied_range(vmg):
    """mremap's copy: a new-range merge that remembers which VMA is being copied."""
    vmg.copied_from = vmg.middle
    vmg.middle = None
    return vma_merge_new_range(vmg)


@kernel_function("mm/vma.c")
def vma_merge_extend(vmi, vma, delta):
    """Grow vma by delta bytes in place (mremap), merging with next if it now touches a
    compatible VMA; returns the grown VMA or None."""
    vmg = VMG_VMA_STATE(vmi, vma, vma, vma.vm_end, vma.vm_end + delta)
    vmg.next = vma.vm_mm.mm_mt.next_from(vma.vm_end)
    vmg.middle = None
    return vma_merge_new_range(vmg)


@kernel_function("mm/vma.c")
def vma_merge_existing_range(vmg):
    """Merge [start, end) of vmg.middle (whose attributes change) into its neighbours."""
    middle, prev = vmg.middle, vmg.prev
    start, end = vmg.start, vmg.end
    mm = vmg.mm
    sticky = vmg.vm_flags & VM_STICKY
    left_side = start == middle.vm_start
    right_side = end == middle.vm_end
    mmap_assert_write_locked(mm)
    vmg.state = VMA_MERGE_NOMERGE
    if vmg.vm_flags & VM_SPECIAL or (not left_side and not right_side):
        return None
    merge_left = can_vma_merge_left(vmg) if left_side else False
    nxt = None
    if right_side:
        nxt = vmg.next = mm.mm_mt.vma_next(middle)
        merge_right = can_vma_merge_right(vmg, merge_left)
    else:
        merge_right = False
    if merge_left:
        vmg.vmi.index = prev.vm_start
    elif not merge_right:
        return None
    merge_both = merge_left and merge_right
    vmg._remove_middle = left_side and right_side
    if vmg._remove_middle and not can_merge_remove_vma(middle):
        return None
    vmg._remove_next = merge_both
    if vmg._remove_next and not can_merge_remove_vma(nxt):
        vmg._remove_next = False
        merge_right = False
        merge_both = False
    vma_start_write(middle)
    if merge_right:
        vma_start_write(nxt)
        vmg.target = nxt
        sticky |= nxt.vm_flags & VM_STICKY
    if merge_left:
        vma_start_write(prev)
        vmg.target = prev
        sticky |= prev.vm_flags & VM_STICKY
    sticky |= middle.vm_flags & VM_STICKY if vmg._remove_middle else 0

    if merge_both:
        vmg.start, vmg.end, vmg.pgoff = prev.vm_start, nxt.vm_end, prev.vm_pgoff
        _, anon_dup = dup_anon_vma(prev, nxt if nxt.anon_vma is not None else middle)
    elif merge_left:
        vmg.start, vmg.pgoff = prev.vm_start, prev.vm_pgoff
        if not vmg._remove_middle:
            vmg._adjust_middle_start = True
        _, anon_dup = dup_anon_vma(prev, middle)
    else:
        pglen = _pglen(vmg)
        if vmg._remove_middle:
            vmg.end = nxt.vm_end
            vmg.pgoff = nxt.vm_pgoff - pglen
        else:
            vmg._adjust_next_start = True
            vmg.start = middle.vm_start
            vmg.end = start
            vmg.pgoff = middle.vm_pgoff
        _, anon_dup = dup_anon_vma(nxt, middle)

    if commit_merge(vmg):
        if anon_dup is not None:
            _undo_dup_anon_vma(anon_dup)
        if not vmg.give_up_on_oom:
            vmg.state = VMA_MERGE_ERROR_NOMEM
        return None
    vmg.state = VMA_MERGE_SUCCESS
    vmg.target.vm_flags |= sticky
    return vmg.target
