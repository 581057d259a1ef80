"""Page faults, as far as layout cares: when a VMA gets its anon_vma (mm/memory.c, mm/rmap.c)."""

from .errno import Errno
from .instrument import kernel_function
from .locking import mmap_read_lock, mmap_read_unlock
from .uapi import PAGE_SHIFT, PAGE_SIZE
from .vm_flags import VmFlags


def anon_vma_compatible(a, b) -> bool:
    """Adjacent VMAs that could share an anon_vma: equal but for access bits (mm/rmap.c)."""
    return (a.vm_end == b.vm_start and a.vm_policy == b.vm_policy and a.vm_file is b.vm_file
            and not ((a.vm_flags ^ b.vm_flags) & ~(VmFlags.VM_READ | VmFlags.VM_WRITE
                                                   | VmFlags.VM_EXEC | VmFlags.VM_SOFTDIRTY))
            and b.vm_pgoff == a.vm_pgoff + ((b.vm_start - a.vm_start) >> PAGE_SHIFT))


def reusable_anon_vma(old, a, b):
    """old's anon_vma, if a and b could share it and old is not a fork child. (mm/vma.c)"""
    if anon_vma_compatible(a, b) and old.anon_vma is not None and len(old.anon_vma_chain) == 1:
        return old.anon_vma
    return None


@kernel_function("mm/vma.c")
def find_mergeable_anon_vma(vma):
    """Reuse a neighbour's anon_vma so the two VMAs can merge later (mm/vma.c)."""
    tree = vma.vm_mm.mm_mt
    nxt = tree.vma_next(vma)
    if nxt is not None:
        av = reusable_anon_vma(nxt, vma, nxt)
        if av is not None:
            return av
    prev = tree.vma_prev(vma)
    if prev is not None:
        return reusable_anon_vma(prev, prev, vma)
    return None


@kernel_function("mm/rmap.c", "simplified")
def anon_vma_prepare(vma) -> int:
    if vma.anon_vma is not None:
        return 0
    world = vma.world
    av = find_mergeable_anon_vma(vma)
    reused = av is not None
    if av is None:
        av = world.new_anon_vma()
    vma.anon_vma = av
    vma.anon_vma_chain = [av]
    world.emit("vma", "anon_vma_prepared", vma=vma.id, anon_vma=av.id, reused=reused)
    return 0


@kernel_function("mm/memory.c", "simplified")
def handle_mm_fault(vma, addr, write: bool) -> int:
    """Return 0, or -EFAULT where the process would get SIGSEGV/SIGBUS."""
    if write and not vma.vm_flags & VmFlags.VM_WRITE:
        return -Errno.EFAULT
    if not write and not vma.vm_flags & (VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_EXEC):
        return -Errno.EFAULT
    f = vma.vm_file
    if f is not None and f.f_inode.kind != "device":
        page = vma.vm_pgoff + ((addr - vma.vm_start) >> PAGE_SHIFT)
        if page >= (f.f_inode.i_size + PAGE_SIZE - 1) >> PAGE_SHIFT:
            return -Errno.EFAULT    # SIGBUS: beyond end of file
    if write and not vma.vm_flags & VmFlags.VM_SHARED:
        return anon_vma_prepare(vma)   # a private write (or CoW of a file page) needs an anon_vma
    return 0


def fault_in(world, addr, write: bool) -> int:
    """A user access at addr: take the lock like the fault path's fallback and fault."""
    mm = world.mm
    mmap_read_lock(mm)
    try:
        vma = mm.mm_mt.find(addr)
        if vma is None:
            return -Errno.EFAULT
        return handle_mm_fault(vma, addr, write)
    finally:
        mmap_read_unlock(mm)


@kernel_function("mm/gup.c", "simplified", quiet=True)
def mm_populate(mm, start, length):
    """MAP_POPULATE: fault in every page; private writable mappings are written (CoW broken)."""
    world = mm.world
    end = start + length
    mmap_read_lock(mm)
    try:
        for vma in mm.mm_mt.range(start, end):
            # populate_vma_page_range() writes to private writable pages to break CoW.
            write = bool(vma.vm_flags & VmFlags.VM_WRITE and not vma.vm_flags & VmFlags.VM_SHARED)
            handle_mm_fault(vma, max(vma.vm_start, start), write)
    finally:
        mmap_read_unlock(mm)
    world.emit("note", "populated")
