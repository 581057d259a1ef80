"""brk(): the heap grows and shrinks at the program break (mm/mmap.c sys_brk, mm/vma.c
do_brk_flags), spec §4.6.

The model's break starts at KernelConfig.start_brk (the end of a non-randomised program's
data segment, mm->start_brk == mm->brk at exec). brk(2) never returns an errno: the new
break on success, the old one when it refuses (below start_brk, into the next mapping
or its guard gap, over a limit). Growth extends the brk VMA when the flags still match,
else adds an anonymous VM_ACCOUNT VMA with address-based pgoff; shrinking unmaps.
RLIMIT_DATA is not modelled (unlimited), nor CONFIG_COMPAT_BRK (not set on x86-64 here).
"""

from .accounting import may_expand_vm, mlock_future_ok, security_vm_enough_memory_mm
from .do_mmap import __get_unmapped_area
from .errno import Errno, is_err
from .fault import mm_populate
from .instrument import kernel_function
from .locking import mmap_write_lock, mmap_write_unlock, vma_start_write
from .mmap_region import vm_get_page_prot
from .uapi import MAP_FIXED, PAGE_ALIGN, PAGE_SHIFT, PAGE_SIZE, ULONG_MAX
from .vm_flags import VmFlags
from .vma_merge import vma_iterator, vma_merge_new_range, vma_merge_struct
from .vma_munmap import do_vmi_align_munmap
from .vma_split import vm_area_alloc

STACK_GUARD_GAP = 256 << PAGE_SHIFT     # vm.stack_guard_gap default: 1 MiB
# VM_DATA_DEFAULT_FLAGS on x86-64 (no READ_IMPLIES_EXEC personality).
VM_DATA_DEFAULT_FLAGS = (VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_MAYREAD
                         | VmFlags.VM_MAYWRITE | VmFlags.VM_MAYEXEC)



@kernel_function("mm/mmap.c", quiet=True)
def check_brk_limits(mm, addr, length) -> int:
    """The new heap range must be placeable at addr, and fit RLIMIT_MEMLOCK if the mm locks
    new mappings (mlockall(MCL_FUTURE))."""
    mapped = __get_unmapped_area(mm, None, addr, length, 0, MAP_FIXED)
    if is_err(mapped):
        return mapped
    return 0 if mlock_future_ok(mm, mm.def_flags, length) else -Errno.EAGAIN


@kernel_function("mm/vma.c")
def do_brk_flags(vmi, vma, addr, length, vm_flags) -> int:
    """Add [addr, addr + length) to the heap: extend the brk VMA if it ends at addr and its
    flags match (vma_merge_new_range with just_expand), else a new anonymous VMA."""
    mm = vmi.mm
    world = mm.world
    vm_flags |= VM_DATA_DEFAULT_FLAGS | VmFlags.VM_ACCOUNT | mm.def_flags
    if world.config.ksm_merge_any:
        vm_flags |= VmFlags.VM_MERGEABLE
    if not may_expand_vm(mm, vm_flags, length >> PAGE_SHIFT):
        return -Errno.ENOMEM
    if mm.map_count > world.config.max_map_count:
        return -Errno.ENOMEM
    if security_vm_enough_memory_mm(mm, length >> PAGE_SHIFT):
        return -Errno.ENOMEM
    merged = None
    if vma is not None and vma.vm_end == addr:
        vmg = vma_merge_struct(mm, vmi, addr, addr + length, addr >> PAGE_SHIFT, vm_flags,
                               None, prev=vma)
        vmg.just_expand = True
        merged = vma_merge_new_range(vmg)
    if merged is None:
        vma = vm_area_alloc(mm)
        if vma is None:
            world.vm_committed -= length >> PAGE_SHIFT
            return -Errno.ENOMEM
        vma.vm_start, vma.vm_end, vma.vm_pgoff = addr, addr + length, addr >> PAGE_SHIFT
        vma.vm_flags = vm_flags
        vma.vm_page_prot = vm_get_page_prot(vm_flags)
        vma_start_write(vma)
        vma.vm_refcnt = 1
        mm.mm_mt.store(vma)
        mm.map_count += 1
        world.emit("vma", "vma_stored", vma=vma.id, start=vma.vm_start, end=vma.vm_end)
    else:
        vma = merged
    mm.total_vm += length >> PAGE_SHIFT
    mm.data_vm += length >> PAGE_SHIFT
    if vm_flags & VmFlags.VM_LOCKED:
        mm.locked_vm += length >> PAGE_SHIFT
    if world.config.soft_dirty:
        vma.vm_flags |= VmFlags.VM_SOFTDIRTY
    return 0


@kernel_function("mm/mmap.c")
def sys_brk(mm, brk) -> int:
    """Move the program break to brk; returns the new break, or the old one if refused."""
    world = mm.world
    mmap_write_lock(mm)
    locked = True
    populate = False
    origbrk = mm.brk
    try:
        if brk < mm.start_brk:
            world.emit("error", "brk_refused", brk=brk)
            mm.brk = origbrk
            return origbrk
        newbrk = PAGE_ALIGN(brk)
        oldbrk = PAGE_ALIGN(mm.brk)
        if oldbrk == newbrk:
            mm.brk = brk
            return brk
        if brk <= mm.brk:
            brkvma = mm.mm_mt.find_intersection(newbrk, oldbrk)
            if brkvma is None or brkvma.vm_start >= oldbrk:
                world.emit("error", "brk_refused", brk=brk)
                return origbrk
            mm.brk = brk
            if do_vmi_align_munmap(vma_iterator(mm, newbrk), brkvma, mm, newbrk, oldbrk):
                mm.brk = origbrk
                return origbrk
            world.emit("vma", "brk_moved", brk=brk, old=origbrk)
            return brk
        # unsigned long arithmetic: a break near 2^64 aligns up to 0, and the length wraps
        # to more than TASK_SIZE, which get_unmapped_area refuses
        length = (newbrk - oldbrk) & ULONG_MAX
        if check_brk_limits(mm, oldbrk, length):
            world.emit("error", "brk_refused", brk=brk)
            return origbrk
        nxt = mm.mm_mt.find_intersection(oldbrk, newbrk + PAGE_SIZE + STACK_GUARD_GAP)
        if nxt is not None and newbrk + PAGE_SIZE > nxt.vm_start:
            world.emit("error", "brk_refused", brk=brk)
            return origbrk
        prev = mm.mm_mt.prev_before(oldbrk)
        brkvma = prev if prev is not None and prev.vm_start >= mm.start_brk else None
        if do_brk_flags(vma_iterator(mm, oldbrk), brkvma, oldbrk, length, 0) < 0:
            mm.brk = origbrk
            world.emit("error", "brk_refused", brk=brk)
            return origbrk
        mm.brk = brk
        populate = bool(mm.def_flags & VmFlags.VM_LOCKED)
        world.emit("vma", "brk_moved", brk=brk, old=origbrk)
        return brk
    finally:
        if locked:
            mmap_write_unlock(mm)
        if populate:
            mm_populate(mm, PAGE_ALIGN(origbrk), PAGE_ALIGN(brk) - PAGE_ALIGN(origbrk))
