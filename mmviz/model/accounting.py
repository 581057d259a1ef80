"""Memory accounting touched by mmap (mm/mmap.c, mm/util.c, security/commoncap.c)."""

from .errno import Errno
from .instrument import kernel_function
from .vm_flags import VmFlags

VM_STACK = VmFlags.VM_GROWSDOWN   # x86-64 stacks grow down


def is_exec_mapping(flags):
    """An executable, non-writable, non-stack mapping. (mm/internal.h)"""
    return (flags & (VmFlags.VM_EXEC | VmFlags.VM_WRITE | VM_STACK)) == VmFlags.VM_EXEC


def is_stack_mapping(flags):
    """A stack (grows-down) mapping. (mm/internal.h)"""
    return (flags & VM_STACK) == VM_STACK


def is_data_mapping(flags):
    """A private writable, non-stack mapping. (mm/internal.h)"""
    return (flags & (VmFlags.VM_WRITE | VmFlags.VM_SHARED | VM_STACK)) == VmFlags.VM_WRITE


@kernel_function("mm/mmap.c", "simplified", quiet=True)
def may_expand_vm(mm, flags, npages) -> bool:
    """RLIMIT_AS / RLIMIT_DATA check; the model's limits default to unlimited."""
    limit = mm.world.config.rlimit_as_pages
    return limit is None or mm.total_vm + npages <= limit


@kernel_function("security/commoncap.c", "simplified")
def security_vm_enough_memory_mm(mm, pages) -> int:
    """Charge `pages` to the commit (overcommit heuristic mode: always allowed unless injected)."""
    world = mm.world
    if world.faults.take("accounting"):
        world.emit("error", "charge_refused", pages=pages)
        return -Errno.ENOMEM
    world.vm_committed += pages
    return 0


def vm_unacct_memory(world, pages):
    """Give pages back to the commit charge. (mm/util.c)"""
    world.vm_committed -= pages


def vm_stat_account(mm, flags, npages):
    """Count pages into total_vm and the exec/stack/data counters. (mm/mmap.c)"""
    mm.total_vm += npages
    if is_exec_mapping(flags):
        mm.exec_vm += npages
    elif is_stack_mapping(flags):
        mm.stack_vm += npages
    elif is_data_mapping(flags):
        mm.data_vm += npages


def accountable_mapping(file, flags) -> bool:
    """A private writable mapping without NORESERVE is charged (mm/vma.c)."""
    if file is not None and file.f_inode.kind == "hugetlbfs":
        return False
    return (flags & (VmFlags.VM_NORESERVE | VmFlags.VM_SHARED | VmFlags.VM_WRITE)) == VmFlags.VM_WRITE


def vm_acct_memory(world, pages):
    """Charge pages to the commit without asking (mremap's error path). (mm/util.c)"""
    world.vm_committed += pages


def capable_ipc_lock(mm) -> bool:
    """capable(CAP_IPC_LOCK): a KernelConfig setting here (include/linux/capability.h)."""
    return mm.world.config.cap_ipc_lock


def rlimit_memlock_pages(mm):
    """rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT, or None for RLIM_INFINITY."""
    return mm.world.config.rlimit_memlock_pages


@kernel_function("mm/mmap.c", quiet=True)
def mlock_future_ok(mm, vm_flags, nbytes) -> bool:
    """May `nbytes` more of locked memory be mapped? Always without VM_LOCKED or with
    CAP_IPC_LOCK; else locked_vm plus the new pages must stay within RLIMIT_MEMLOCK."""
    if not vm_flags & VmFlags.VM_LOCKED or capable_ipc_lock(mm):
        return True
    limit = rlimit_memlock_pages(mm)
    return limit is None or (nbytes >> 12) + mm.locked_vm <= limit
