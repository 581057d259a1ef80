"""mprotect(): change protections VMA by VMA, merging or splitting (mm/mprotect.c), spec §5."""

from .accounting import may_expand_vm, security_vm_enough_memory_mm, vm_stat_account, vm_unacct_memory
from .errno import Errno
from .instrument import kernel_function
from .locking import mmap_write_lock, mmap_write_unlock, vma_start_write
from .mm_types import vma_is_anonymous
from .mmap_region import vm_get_page_prot
from .uapi import (PAGE_ALIGN, PAGE_MASK, PAGE_SHIFT, PROT_EXEC, PROT_GROWSDOWN, PROT_GROWSUP,
                   PROT_READ, PROT_SEM, PROT_WRITE, ULONG_MAX)
from .vm_flags import VM_ACCESS_FLAGS, VmFlags
from .vma_merge import VMG_VMA_STATE, VMA_MERGE_ERROR_NOMEM, vma_iterator, vma_merge_existing_range
from .vma_split import split_vma


@kernel_function("mm/vma.c")
def vma_modify_flags(vmi, prev, vma, start, end, newflags):
    """Merge [start, end) of vma with its neighbours under newflags, else split it out; (err, vma)."""
    vmg = VMG_VMA_STATE(vmi, prev, vma, start, end)
    vmg.vm_flags = newflags
    merged = vma_merge_existing_range(vmg)
    if merged is not None:
        return 0, merged
    if vmg.state == VMA_MERGE_ERROR_NOMEM:
        return -Errno.ENOMEM, None
    if vma.vm_start < start:
        err = split_vma(vmi, vma, start, True)
        if err:
            return err, None
    if vma.vm_end > end:
        err = split_vma(vmi, vma, end, False)
        if err:
            return err, None
    return 0, vma


@kernel_function("mm/mprotect.c")
def mprotect_fixup(vmi, vma, pprev, start, end, newflags) -> int:
    mm = vma.vm_mm
    world = mm.world
    oldflags = vma.vm_flags
    if newflags == oldflags:
        pprev[0] = vma
        return 0
    nrpages = (end - start) >> PAGE_SHIFT
    charged = 0
    if newflags & VmFlags.VM_WRITE:
        if not may_expand_vm(mm, newflags, nrpages) and may_expand_vm(mm, oldflags, nrpages):
            return -Errno.ENOMEM
        if not oldflags & (VmFlags.VM_ACCOUNT | VmFlags.VM_WRITE | VmFlags.VM_HUGETLB
                           | VmFlags.VM_SHARED | VmFlags.VM_NORESERVE):
            charged = nrpages
            if security_vm_enough_memory_mm(mm, charged):
                return -Errno.ENOMEM
            newflags |= VmFlags.VM_ACCOUNT
    elif oldflags & VmFlags.VM_ACCOUNT and vma_is_anonymous(vma) and vma.anon_vma is None:
        # Never written: the charge can be given back.
        newflags &= ~VmFlags.VM_ACCOUNT
    err, vma = vma_modify_flags(vmi, pprev[0], vma, start, end, newflags)
    if err:
        if charged:
            vm_unacct_memory(world, charged)
        return err
    pprev[0] = vma
    vma_start_write(vma)
    vma.vm_flags = newflags
    vma.vm_page_prot = vm_get_page_prot(newflags)
    world.emit("vma", "mprotect_done", vma=vma.id, start=vma.vm_start, end=vma.vm_end)
    if oldflags & VmFlags.VM_ACCOUNT and not newflags & VmFlags.VM_ACCOUNT:
        vm_unacct_memory(world, nrpages)
    vm_stat_account(mm, oldflags, -nrpages)
    vm_stat_account(mm, newflags, nrpages)
    if ((oldflags & (VmFlags.VM_WRITE | VmFlags.VM_SHARED | VmFlags.VM_LOCKED)) == VmFlags.VM_LOCKED
            and newflags & VmFlags.VM_WRITE):
        # A locked private VMA becoming writable is populated now (COW broken, so the
        # VMA gets its anon_vma here rather than at the first write).
        from .fault import populate_vma_page_range
        populate_vma_page_range(vma, start, end)
    return 0


@kernel_function("mm/mprotect.c")
def do_mprotect_pkey(mm, start, length, prot) -> int:
    grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP)
    if grows == (PROT_GROWSDOWN | PROT_GROWSUP):
        return -Errno.EINVAL
    if start & ~PAGE_MASK:
        return -Errno.EINVAL
    if not length:
        return 0
    length = PAGE_ALIGN(length)
    end = (start + length) & ULONG_MAX
    if end <= start:
        return -Errno.ENOMEM
    if prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM | grows):
        return -Errno.EINVAL
    if grows:
        mm.world.reject_input("mprotect: PROT_GROWSDOWN/PROT_GROWSUP are not modelled; "
                              "use PROT_READ, PROT_WRITE, PROT_EXEC")
    mmap_write_lock(mm)
    try:
        return _mprotect_locked(mm, start, end, prot)
    finally:
        mmap_write_unlock(mm)


def _mprotect_locked(mm, start, end, prot) -> int:
    tree = mm.mm_mt
    vma = tree.find_intersection(start, end)
    if vma is None or vma.vm_start > start:
        return -Errno.ENOMEM
    prev = [vma if start > vma.vm_start else tree.vma_prev(vma)]
    vmi = vma_iterator(mm, start)
    nstart = start
    tmp = vma.vm_start
    error = 0
    while True:
        vma = tree.find_intersection(nstart, end) if nstart < end else None
        if vma is None:
            break
        if vma.vm_start != tmp:
            error = -Errno.ENOMEM
            break
        newflags = (prot & 0x7) | (vma.vm_flags & ~VM_ACCESS_FLAGS)
        # VM_MAY* sit four bits above VM_*: asking for what the mapping may not have fails.
        if (newflags & ~(newflags >> 4)) & VM_ACCESS_FLAGS:
            error = -Errno.EACCES
            break
        if mm.world.config.mdwe and newflags & VmFlags.VM_WRITE and newflags & VmFlags.VM_EXEC:
            error = -Errno.EACCES
            break
        tmp = min(vma.vm_end, end)
        error = mprotect_fixup(vmi, vma, prev, nstart, tmp, newflags)
        if error:
            break
        tmp = prev[0].vm_end if prev[0] is not None else tmp
        tmp = min(tmp, end) if tmp > nstart else tmp
        nstart = tmp
        if nstart >= end:
            break
    if not error and tmp < end:
        error = -Errno.ENOMEM
    return error
