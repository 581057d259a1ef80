"""madvise(): advice that changes VMA flags (and so splits and merges) and MADV_DONTNEED
(mm/madvise.c), spec §4.1-§4.4, as Linux 6.18 does it.

Flag-changing advice (NORMAL/RANDOM/SEQUENTIAL, DONTFORK/DOFORK, WIPEONFORK/KEEPONFORK,
DONTDUMP/DODUMP, MERGEABLE/UNMERGEABLE, HUGEPAGE/NOHUGEPAGE) takes mmap_lock for write
and goes through vma_modify_flags() like mprotect; a failed split is reported as
-EAGAIN. DONTNEED/DONTNEED_LOCKED zap pages; WILLNEED, COLD and PAGEOUT change nothing
the model keeps but check their VMAs. The walk carries on over holes and reports -ENOMEM
at the end; the first per-VMA error stops it.

The oracle kernel is built with THP and KSM and without CONFIG_MEMORY_FAILURE (so
MADV_HWPOISON and MADV_SOFT_OFFLINE are invalid advice) and without CONFIG_ANON_VMA_NAME.
"""

from .errno import Errno
from .instrument import kernel_function
from .locking import mmap_read_lock, mmap_read_unlock, mmap_write_lock, mmap_write_unlock, vma_start_write
from .memory import zap_page_range_single
from .mprotect import vma_modify_flags
from .uapi import (MADV_COLD, MADV_COLLAPSE, MADV_DODUMP, MADV_DOFORK, MADV_DONTDUMP,
                   MADV_DONTFORK, MADV_DONTNEED, MADV_DONTNEED_LOCKED, MADV_FLAG_NAMES,
                   MADV_FREE, MADV_GUARD_INSTALL, MADV_GUARD_REMOVE, MADV_HUGEPAGE,
                   MADV_KEEPONFORK, MADV_MERGEABLE, MADV_NOHUGEPAGE, MADV_NORMAL, MADV_PAGEOUT,
                   MADV_POPULATE_READ, MADV_POPULATE_WRITE, MADV_RANDOM, MADV_REMOVE,
                   MADV_SEQUENTIAL, MADV_UNMERGEABLE, MADV_WILLNEED, MADV_WIPEONFORK,
                   PAGE_ALIGN, PAGE_MASK, ULONG_MAX)
from .vm_flags import VM_SPECIAL, VmFlags
from .vma_merge import vma_iterator

MADV_NAMES = {v: k for k, v in MADV_FLAG_NAMES.items()}

# Valid advice on the modelled kernel (madvise_behavior_valid): no CONFIG_MEMORY_FAILURE.
VALID_ADVICE = frozenset({
    MADV_DOFORK, MADV_DONTFORK, MADV_NORMAL, MADV_SEQUENTIAL, MADV_RANDOM, MADV_REMOVE,
    MADV_WILLNEED, MADV_DONTNEED, MADV_DONTNEED_LOCKED, MADV_FREE, MADV_COLD, MADV_PAGEOUT,
    MADV_POPULATE_READ, MADV_POPULATE_WRITE, MADV_MERGEABLE, MADV_UNMERGEABLE,
    MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_COLLAPSE, MADV_DONTDUMP, MADV_DODUMP,
    MADV_WIPEONFORK, MADV_KEEPONFORK, MADV_GUARD_INSTALL, MADV_GUARD_REMOVE})

# Valid advice the model does not simulate: the World refuses it with InputError.
UNMODELLED_ADVICE = frozenset({MADV_FREE, MADV_REMOVE, MADV_POPULATE_READ,
                               MADV_POPULATE_WRITE, MADV_COLLAPSE, MADV_GUARD_INSTALL,
                               MADV_GUARD_REMOVE})

_FLAG_ADVICE = frozenset({MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_DONTFORK,
                          MADV_DOFORK, MADV_WIPEONFORK, MADV_KEEPONFORK, MADV_DONTDUMP,
                          MADV_DODUMP, MADV_MERGEABLE, MADV_UNMERGEABLE, MADV_HUGEPAGE,
                          MADV_NOHUGEPAGE})
_READ_LOCK_ADVICE = frozenset({MADV_WILLNEED, MADV_COLD, MADV_PAGEOUT, MADV_DONTNEED,
                               MADV_DONTNEED_LOCKED})


class madvise_behavior:
    """What one madvise call carries through the walk (mm/madvise.c)."""

    __slots__ = ("mm", "behavior", "start", "end", "prev", "vma")

    def __init__(self, mm, behavior):
        self.mm = mm
        self.behavior = behavior
        self.start = self.end = 0
        self.prev = self.vma = None

    @property
    def world(self):
        return self.mm.world


def madvise_behavior_valid(behavior) -> bool:
    """Is this advice known to the kernel as built? (mm/madvise.c)"""
    return behavior in VALID_ADVICE


@kernel_function("mm/ksm.c", "simplified", quiet=True)
def ksm_madvise(vma, start, end, advice, new_flags) -> tuple:
    """MADV_MERGEABLE sets VM_MERGEABLE where KSM can work (private, not special: elsewhere
    the advice is silently ignored); MADV_UNMERGEABLE clears it. Returns (err, flags)."""
    flags = vma.vm_flags
    if advice == MADV_MERGEABLE:
        if flags & VmFlags.VM_MERGEABLE:
            return 0, new_flags
        if flags & (VmFlags.VM_SHARED | VmFlags.VM_MAYSHARE | VM_SPECIAL | VmFlags.VM_HUGETLB):
            return 0, new_flags
        return 0, new_flags | VmFlags.VM_MERGEABLE
    if not new_flags & VmFlags.VM_MERGEABLE:
        return 0, new_flags
    return 0, new_flags & ~VmFlags.VM_MERGEABLE


def hugepage_madvise(vma, new_flags, advice) -> int:
    """HUGEPAGE and NOHUGEPAGE each set their flag and clear the other. (mm/khugepaged.c)"""
    if advice == MADV_HUGEPAGE:
        return (new_flags & ~VmFlags.VM_NOHUGEPAGE) | VmFlags.VM_HUGEPAGE
    return (new_flags & ~VmFlags.VM_HUGEPAGE) | VmFlags.VM_NOHUGEPAGE


@kernel_function("mm/madvise.c")
def madvise_update_vma(new_flags, mb) -> int:
    """Give [start, end) of the VMA the new flags: merge with a neighbour or split."""
    vma = mb.vma
    if vma.vm_flags == new_flags:
        return 0
    err, vma = vma_modify_flags(vma_iterator(mb.mm, mb.start), mb.prev, vma, mb.start, mb.end,
                                new_flags)
    if err:
        return err
    mb.vma = vma
    vma_start_write(vma)
    vma.vm_flags = new_flags
    mb.world.emit("vma", "madvise_flags", vma=vma.id, start=vma.vm_start, end=vma.vm_end,
                  advice=MADV_NAMES.get(mb.behavior, str(mb.behavior)))
    return 0


def madvise_dontneed_free_valid_vma(mb) -> bool:
    """DONTNEED may not zap mlocked (unless DONTNEED_LOCKED) or PFN-mapped memory."""
    forbidden = VmFlags.VM_PFNMAP
    if mb.behavior != MADV_DONTNEED_LOCKED:
        forbidden |= VmFlags.VM_LOCKED
    return not mb.vma.vm_flags & forbidden


@kernel_function("mm/madvise.c", "simplified")
def madvise_dontneed_single_vma(mb) -> int:
    """Zap the range: anonymous pages are gone (reads see 0), file pages refault."""
    zap_page_range_single(mb.vma, mb.start, mb.end - mb.start)
    mb.world.emit("note", "dontneed_zap", vma=mb.vma.id, start=mb.start, end=mb.end)
    return 0


@kernel_function("mm/madvise.c")
def madvise_vma_behavior(mb) -> int:
    """Apply the advice to [start, end) of one VMA; -ENOMEM from a split becomes -EAGAIN."""
    behavior = mb.behavior
    vma = mb.vma
    new_flags = vma.vm_flags
    if behavior in (MADV_DONTNEED, MADV_DONTNEED_LOCKED):
        if not madvise_dontneed_free_valid_vma(mb):
            return -Errno.EINVAL
        if mb.start == mb.end:
            return 0
        return madvise_dontneed_single_vma(mb)
    if behavior == MADV_WILLNEED:
        return 0
    if behavior in (MADV_COLD, MADV_PAGEOUT):
        # can_madv_lru_vma(): the pages of locked, PFN or hugetlb VMAs stay where they are.
        if vma.vm_flags & (VmFlags.VM_LOCKED | VmFlags.VM_PFNMAP | VmFlags.VM_HUGETLB):
            return -Errno.EINVAL
        return 0
    if behavior == MADV_NORMAL:
        new_flags &= ~(VmFlags.VM_RAND_READ | VmFlags.VM_SEQ_READ)
    elif behavior == MADV_SEQUENTIAL:
        new_flags = (new_flags & ~VmFlags.VM_RAND_READ) | VmFlags.VM_SEQ_READ
    elif behavior == MADV_RANDOM:
        new_flags = (new_flags & ~VmFlags.VM_SEQ_READ) | VmFlags.VM_RAND_READ
    elif behavior == MADV_DONTFORK:
        new_flags |= VmFlags.VM_DONTCOPY
    elif behavior == MADV_DOFORK:
        if new_flags & VM_SPECIAL:
            return -Errno.EINVAL
        new_flags &= ~VmFlags.VM_DONTCOPY
    elif behavior == MADV_WIPEONFORK:
        if vma.vm_file is not None or new_flags & VmFlags.VM_SHARED:
            return -Errno.EINVAL
        new_flags |= VmFlags.VM_WIPEONFORK
    elif behavior == MADV_KEEPONFORK:
        new_flags &= ~VmFlags.VM_WIPEONFORK
    elif behavior == MADV_DONTDUMP:
        new_flags |= VmFlags.VM_DONTDUMP
    elif behavior == MADV_DODUMP:
        if new_flags & VM_SPECIAL and not new_flags & VmFlags.VM_HUGETLB:
            return -Errno.EINVAL
        new_flags &= ~VmFlags.VM_DONTDUMP
    elif behavior in (MADV_MERGEABLE, MADV_UNMERGEABLE):
        err, new_flags = ksm_madvise(vma, mb.start, mb.end, behavior, new_flags)
        if err:
            return -Errno.EAGAIN if err == -Errno.ENOMEM else err
    elif behavior in (MADV_HUGEPAGE, MADV_NOHUGEPAGE):
        new_flags = hugepage_madvise(vma, new_flags, behavior)
    error = madvise_update_vma(new_flags, mb)
    if error == -Errno.ENOMEM:
        mb.world.emit("error", "madvise_split_failed")
        error = -Errno.EAGAIN
    return error


@kernel_function("mm/madvise.c")
def madvise_walk_vmas(mb) -> int:
    """Apply the advice VMA by VMA over [start, end): holes are remembered (-ENOMEM at the
    end) but do not stop the walk; an error from a VMA does."""
    mm = mb.mm
    tree = mm.mm_mt
    last_end = mb.end
    unmapped_error = 0
    vma = tree.find_intersection(mb.start, ULONG_MAX + 1)
    prev = tree.vma_prev(vma) if vma is not None else tree.prev_before(mb.start)
    if vma is not None and mb.start > vma.vm_start:
        prev = vma
    while True:
        if vma is None:
            return -Errno.ENOMEM
        if mb.start < vma.vm_start:
            unmapped_error = -Errno.ENOMEM
            mb.world.emit("note", "madvise_hole", start=mb.start, end=vma.vm_start)
            mb.start = vma.vm_start
            if mb.start >= last_end:
                break
        mb.end = min(vma.vm_end, last_end)
        mb.prev = prev
        mb.vma = vma
        error = madvise_vma_behavior(mb)
        if error:
            return error
        vma = mb.vma
        prev = vma
        if mb.end < vma.vm_end:
            mb.end = vma.vm_end
        if mb.end >= last_end:
            break
        vma = tree.find_intersection(vma.vm_end, ULONG_MAX + 1)
        mb.start = mb.end
    return unmapped_error


@kernel_function("mm/madvise.c")
def do_madvise(mm, start, len_in, behavior) -> int:
    """madvise(2): validity and range checks first (bad advice is -EINVAL even on unmapped
    memory; a zero length is 0), then the lock the advice needs and the walk. MADV_DONTNEED
    runs under mmap_lock for read (the kernel tries a per-VMA lock first; same outcome)."""
    if not madvise_behavior_valid(behavior):
        return -Errno.EINVAL
    if start & ~PAGE_MASK:
        return -Errno.EINVAL
    length = PAGE_ALIGN(len_in)
    if len_in and not length:
        return -Errno.EINVAL
    if start + length > ULONG_MAX:
        return -Errno.EINVAL
    if not len_in:
        return 0
    mb = madvise_behavior(mm, behavior)
    mb.start = start
    mb.end = start + length
    write = behavior not in _READ_LOCK_ADVICE
    (mmap_write_lock if write else mmap_read_lock)(mm)
    try:
        return madvise_walk_vmas(mb)
    finally:
        (mmap_write_unlock if write else mmap_read_unlock)(mm)
