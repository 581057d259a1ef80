"""The user page-fault path with per-VMA locks (arch/x86/mm/fault.c, mm/memory.c), spec §5.2.

A user fault first tries the VMA's read lock, which never waits: it fails on a VMA that is
write-locked (being changed under mmap_lock) or detached. Most faults then finish without
touching mmap_lock. The first anonymous write fault in a VMA without an anon_vma needs
mmap_lock for read (`__vmf_anon_prepare`, a trylock): if a writer holds it the fault is
retried. A failed or retried attempt falls back to mmap_lock for read, which does wait,
looks the address up again and faults on whatever VMA is there by then.
"""

from .errno import Errno
from .fault import handle_mm_fault
from .instrument import kernel_function
from .locking import (mmap_read_lock, mmap_read_trylock, mmap_read_unlock, vma_end_read,
                      vma_start_read)
from .vm_flags import VmFlags

VM_FAULT_RETRY = "VM_FAULT_RETRY"


@kernel_function("mm/mmap_lock.c", "simplified")
def lock_vma_under_rcu(mm, addr):
    """The VMA at addr, read-locked, or None (no VMA there, or it cannot be read-locked now)."""
    vma = mm.mm_mt.find(addr)
    if vma is None or not vma_start_read(vma):
        return None
    return vma


def _needs_anon_vma(vma, write) -> bool:
    return (write and vma.anon_vma is None and bool(vma.vm_flags & VmFlags.VM_WRITE)
            and not vma.vm_flags & VmFlags.VM_SHARED)


@kernel_function("mm/memory.c", "simplified")
def handle_mm_fault_vma_locked(vma, addr, write):
    """handle_mm_fault() under the VMA lock (FAULT_FLAG_VMA_LOCK): VM_FAULT_RETRY when the
    fault needs mmap_lock and cannot get it without waiting."""
    if _needs_anon_vma(vma, write):
        mm = vma.vm_mm
        if not mmap_read_trylock(mm):          # __vmf_anon_prepare()
            vma.world.emit("note", "fault_retry", vma=vma.id)
            return VM_FAULT_RETRY
        try:
            return handle_mm_fault(vma, addr, write)
        finally:
            mmap_read_unlock(mm)
    return handle_mm_fault(vma, addr, write)


@kernel_function("arch/x86/mm/fault.c", "simplified")
def do_user_addr_fault(mm, addr, write: bool) -> int:
    """A user access at addr: 0, or -EFAULT where the process would get SIGSEGV/SIGBUS."""
    vma = lock_vma_under_rcu(mm, addr)
    if vma is not None:
        ret = handle_mm_fault_vma_locked(vma, addr, write)
        vma_end_read(vma)                      # a retry drops the VMA lock before waiting
        if ret != VM_FAULT_RETRY:
            return ret
    mmap_read_lock(mm)                         # lock_mm_and_find_vma()
    try:
        vma = mm.mm_mt.find(addr)
        if vma is None:
            mm.world.emit("note", "fault_no_vma", addr=addr)
            return -Errno.EFAULT
        return handle_mm_fault(vma, addr, write)
    finally:
        mmap_read_unlock(mm)
