"""mlock(), mlock2() and munlock(): VM_LOCKED as a VMA flag change (mm/mlock.c), spec §4.5.

Locking a range sets VM_LOCKED (and VM_LOCKONFAULT for MLOCK_ONFAULT) VMA by VMA through
vma_modify_flags(), so it splits and merges exactly like mprotect; locked_vm counts the
locked pages. The pages are then faulted in after mmap_lock is dropped (__mm_populate),
and a range that cannot be faulted in (PROT_NONE, past the end of a file) makes mlock
fail with -ENOMEM although its VMAs stay locked.
"""

from .accounting import capable_ipc_lock, rlimit_memlock_pages
from .errno import Errno
from .fault import __mm_populate
from .instrument import kernel_function
from .locking import mmap_write_lock, mmap_write_unlock, vma_start_write
from .mmap_region import vma_supports_mlock
from .mprotect import vma_modify_flags
from .uapi import PAGE_ALIGN, PAGE_MASK, PAGE_SHIFT, ULONG_MAX
from .vm_flags import VM_LOCKED_MASK, VmFlags
from .vma_merge import vma_iterator


@kernel_function("mm/mlock.c", quiet=True)
def can_do_mlock(mm) -> bool:
    """mlock is allowed at all: a non-zero RLIMIT_MEMLOCK, or CAP_IPC_LOCK."""
    limit = rlimit_memlock_pages(mm)
    return limit is None or limit != 0 or capable_ipc_lock(mm)


@kernel_function("mm/mlock.c", "simplified")
def mlock_vma_pages_range(vma, start, end, newflags):
    """Set the new flags (the kernel briefly adds VM_IO so that rmap walkers racing with
    the page walk do not mlock a page twice) and walk the present pages to (un)lock them;
    page-level mlock counts are not modelled."""
    vma_start_write(vma)
    vma.vm_flags = newflags
    vma.world.emit("vma", "mlock_pages", vma=vma.id, start=start, end=end,
                   locked=bool(newflags & VmFlags.VM_LOCKED))


@kernel_function("mm/mlock.c")
def mlock_fixup(vmi, vma, prev, start, end, newflags) -> int:
    """Give [start, end) of vma the new lock flags, merging or splitting; count locked_vm.
    Unchanged flags and VMAs that cannot be locked (VM_SPECIAL, hugetlb) are skipped
    without an error."""
    mm = vma.vm_mm
    oldflags = vma.vm_flags
    if newflags == oldflags or not vma_supports_mlock(vma):
        prev[0] = vma
        return 0
    err, vma = vma_modify_flags(vmi, prev[0], vma, start, end, newflags)
    if err:
        return err
    nr_pages = (end - start) >> PAGE_SHIFT
    if not newflags & VmFlags.VM_LOCKED:
        nr_pages = -nr_pages
    elif oldflags & VmFlags.VM_LOCKED:
        nr_pages = 0
    mm.locked_vm += nr_pages
    if newflags & VmFlags.VM_LOCKED and oldflags & VmFlags.VM_LOCKED:
        vma_start_write(vma)          # LOCKED <-> LOCKONFAULT: flags only
        vma.vm_flags = newflags
    else:
        mlock_vma_pages_range(vma, start, end, newflags)
    prev[0] = vma
    return 0


@kernel_function("mm/mlock.c")
def apply_vma_lock_flags(mm, start, length, flags) -> int:
    """Apply VM_LOCKED/VM_LOCKONFAULT (or neither, for munlock) to every VMA of the range:
    -ENOMEM if start is unmapped (nothing changes), or at the first hole (the VMAs before
    it are already changed), or if the range runs past the last VMA."""
    end = (start + length) & ULONG_MAX
    if end < start:
        return -Errno.EINVAL
    if end == start:
        return 0
    tree = mm.mm_mt
    vma = tree.find(start)
    if vma is None:
        return -Errno.ENOMEM
    prev = [vma if start > vma.vm_start else tree.vma_prev(vma)]
    vmi = vma_iterator(mm, start)
    nstart = start
    tmp = vma.vm_start
    while nstart < end:
        vma = tree.find_intersection(nstart, end)
        if vma is None:
            break
        if vma.vm_start != tmp:
            return -Errno.ENOMEM
        newflags = (vma.vm_flags & ~VM_LOCKED_MASK) | flags
        tmp = min(vma.vm_end, end)
        error = mlock_fixup(vmi, vma, prev, nstart, tmp, newflags)
        if error:
            return error
        tmp = prev[0].vm_end       # vma_iter_end(): the end of the VMA the walk is on
        nstart = tmp
    if tmp < end:
        return -Errno.ENOMEM
    return 0


@kernel_function("mm/mlock.c", "faithful")
def count_mm_mlocked_page_nr(mm, start, length) -> int:
    """Pages already locked inside [start, start + length): they do not count again
    against RLIMIT_MEMLOCK (the kernel's arithmetic, quirks included)."""
    end = ULONG_MAX if ULONG_MAX - length < start else start + length
    count = 0
    for vma in mm.mm_mt.range(start, end):
        if vma.vm_flags & VmFlags.VM_LOCKED:
            if start > vma.vm_start:
                count -= start - vma.vm_start
            if end < vma.vm_end:
                count += end - vma.vm_start
                break
            count += vma.vm_end - vma.vm_start
    return count >> PAGE_SHIFT


def __mlock_posix_error_return(retval) -> int:
    """GUP's errors as mlock reports them: -EFAULT becomes -ENOMEM, -ENOMEM -EAGAIN.

    Mirrors mm/mlock.c."""
    if retval == -Errno.EFAULT:
        return -Errno.ENOMEM
    if retval == -Errno.ENOMEM:
        return -Errno.EAGAIN
    return retval


@kernel_function("mm/mlock.c")
def do_mlock(mm, start, length, flags) -> int:
    """mlock/mlock2: the permission and RLIMIT_MEMLOCK checks, the flag change under
    mmap_lock, then populating the range."""
    if not can_do_mlock(mm):
        return -Errno.EPERM
    length = PAGE_ALIGN(length + (start & ~PAGE_MASK))
    start &= PAGE_MASK
    lock_limit = rlimit_memlock_pages(mm)
    locked = length >> PAGE_SHIFT
    error = -Errno.ENOMEM
    mmap_write_lock(mm)
    try:
        locked += mm.locked_vm
        over = lock_limit is not None and locked > lock_limit
        if over and not capable_ipc_lock(mm):
            locked -= count_mm_mlocked_page_nr(mm, start, length)
        if lock_limit is None or locked <= lock_limit or capable_ipc_lock(mm):
            error = apply_vma_lock_flags(mm, start, length, flags)
        else:
            mm.world.emit("error", "memlock_limit", locked=locked, limit=lock_limit)
    finally:
        mmap_write_unlock(mm)
    if error:
        return error
    error = __mm_populate(mm, start, length, False)
    if error:
        return __mlock_posix_error_return(error)
    return 0


@kernel_function("mm/mlock.c")
def sys_munlock(mm, start, length) -> int:
    """munlock: clear VM_LOCKED|VM_LOCKONFAULT over the range (no limit, no permission)."""
    length = PAGE_ALIGN(length + (start & ~PAGE_MASK))
    start &= PAGE_MASK
    mmap_write_lock(mm)
    try:
        return apply_vma_lock_flags(mm, start, length, 0)
    finally:
        mmap_write_unlock(mm)
