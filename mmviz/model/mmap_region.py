"""mmap_region() and __mmap_region(): establishing a new mapping (mm/vma.c), spec §2.2–§2.9.

The kernel reads `current->mm`; the model passes `mm` explicitly. Step labels S0–S11 and
E1–E2 follow spec §2.3 and appear in the trace as `step` events. The kernel variant
changes only the completion at S10 and how the rmap-lock flag travels (spec §0.1); both
are read from `world.variant`.
"""

from .accounting import accountable_mapping, may_expand_vm, security_vm_enough_memory_mm, vm_stat_account, vm_unacct_memory
from .compat import mmap_file
from .errno import Errno
from .file_ops import fput, get_file, is_shared_maywrite, mapping_map_writable, mapping_unmap_writable, vma_link_file
from .instrument import call_hook, kernel_function
from .ksm import ksm_vma_flags
from .locking import i_mmap_unlock_write, mmap_assert_write_locked, vma_start_write
from .mm_types import vm_area_desc
from .mmap_action import call_mapped_hook, mmap_action_complete, mmap_action_prepare
from .uapi import PAGE_SHIFT
from .vm_flags import VM_LOCKED_MASK, VM_SPECIAL, VmFlags
from .vma_merge import vma_iterator, vma_merge_new_range, vma_merge_struct
from .vma_munmap import init_vma_munmap, vms_abort_munmap_vmas, vms_clean_up_area, vms_complete_munmap_vmas, vms_gather_munmap_vmas
from .vma_split import vm_area_alloc, vm_area_free


class mmap_state:
    """Everything __mmap_region decides, carried between its steps (mm/vma.c)."""

    __slots__ = ("mm", "vmi", "addr", "end", "pgoff", "pglen", "vm_flags", "file", "page_prot",
                 "vm_ops", "vm_private_data", "charged", "prev", "next", "vms",
                 "check_ksm_early", "file_doesnt_need_get", "hold_file_rmap_lock")

    def __init__(self, mm, vmi, addr, length, pgoff, vm_flags, file):
        self.mm = mm
        self.vmi = vmi
        self.addr = addr
        self.end = addr + length
        self.pgoff = pgoff
        self.pglen = length >> PAGE_SHIFT
        self.vm_flags = vm_flags
        self.file = file
        self.page_prot = vm_get_page_prot(vm_flags)
        self.vm_ops = None
        self.vm_private_data = None
        self.charged = 0
        self.prev = self.next = None
        self.vms = None
        self.check_ksm_early = False
        self.file_doesnt_need_get = False
        self.hold_file_rmap_lock = False   # baseline and v3 only; v4 reads the action's flag

    @property
    def world(self):
        return self.mm.world


def vm_get_page_prot(vm_flags) -> int:
    """The hardware protection a set of flags implies; the model keeps the R/W/X/shared bits."""
    return vm_flags & (VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_EXEC | VmFlags.VM_SHARED)


def _step(world, step, **fields):
    world.emit("note", "step", step=step, **fields)


def can_set_ksm_flags_early(map) -> bool:
    """Can KSM flags be set before the merge? Yes unless a legacy non-shmem .mmap could change the flags afterwards.

    Mirrors mm/vma.c.
    """
    f = map.file
    return f is None or f.f_op.mmap_prepare is not None or f.f_op.is_shmem


def update_ksm_flags(map):
    """Add VM_MERGEABLE when the process opted in to KSM for everything. (mm/vma.c)"""
    map.vm_flags = ksm_vma_flags(map.mm, map.file, map.vm_flags)


@kernel_function("mm/vma.c")
def __mmap_setup(map, desc) -> int:
    """Gather any VMAs the new range replaces, check limits, charge memory, zap the old range."""
    world = map.world
    mm = map.mm
    first = mm.mm_mt.find_intersection(map.addr, map.end)
    vms = map.vms = init_vma_munmap(map.vmi, first, map.addr, map.end)
    if first is not None:
        err = vms_gather_munmap_vmas(vms)
        if err:
            vms.nr_pages = 0
            return err
        map.prev, map.next = vms.prev, vms.next
    else:
        map.prev = mm.mm_mt.prev_before(map.addr)
        map.next = mm.mm_mt.next_from(map.end)
    if not may_expand_vm(mm, map.vm_flags, map.pglen - vms.nr_pages):
        world.emit("error", "may_expand_vm_fail")
        return -Errno.ENOMEM
    if accountable_mapping(map.file, map.vm_flags):
        map.charged = map.pglen - vms.nr_accounted
        if map.charged:
            err = security_vm_enough_memory_mm(mm, map.charged)
            if err:
                return err
        vms.nr_accounted = 0
        map.vm_flags |= VmFlags.VM_ACCOUNT
    vms_clean_up_area(vms)
    set_desc_from_map(desc, map)
    return 0


def set_desc_from_map(desc, map):
    """Fill the descriptor mmap_prepare sees from the mmap_state. (mm/vma.c)"""
    desc.start = map.addr
    desc.end = map.end
    desc.pgoff = map.pgoff
    desc.vm_file = map.file
    desc.vm_flags = map.vm_flags
    desc.page_prot = map.page_prot


@kernel_function("mm/vma.c")
def call_action_prepare(map, desc) -> int:
    """Prepare the action (in the first version this could not fail and returned nothing)."""
    err = mmap_action_prepare(desc)
    if err:
        return err
    if map.world.variant.hide_flag_in_map_state:
        # Before v4 the hide flag was copied into the mmap_state here.
        map.hold_file_rmap_lock = desc.action.hide_from_rmap_until_complete
    return 0 if map.world.variant.action_prepare_can_fail else None


@kernel_function("mm/vma.c")
def call_mmap_prepare(map, desc) -> int:
    """Let the driver describe the mapping before any VMA exists, then adopt its choices."""
    world = map.world
    err = call_hook(world, "f_op->mmap_prepare", map.file.f_op.mmap_prepare, desc)
    if err:
        world.emit("error", "prepare_fail", errno=err)
        return err
    err = call_action_prepare(map, desc)
    if err:
        return err
    map.pgoff = desc.pgoff
    if desc.vm_file is not map.file:
        map.file_doesnt_need_get = True
        map.file = desc.vm_file
        world.emit("note", "file_swapped", file=desc.vm_file.label)
    map.vm_flags = desc.vm_flags
    map.page_prot = desc.page_prot
    map.vm_ops = desc.vm_ops
    map.vm_private_data = desc.private_data
    return 0


@kernel_function("mm/vma.c")
def __mmap_new_file_vma(map, vma) -> int:
    world = map.world
    vma.vm_file = map.file if map.file_doesnt_need_get else get_file(map.file)
    if map.file.f_op.mmap is None:
        return 0      # an mmap_prepare file: its action runs at completion
    err = mmap_file(vma.vm_file, vma)
    if err:
        fput(vma.vm_file)
        vma.vm_file = None
        world.emit("note", "legacy_mmap_fail", errno=err)
        return err
    if vma.vm_start != map.addr:
        world.emit("warn", "legacy_moved_start")
    if (map.vm_flags != vma.vm_flags and not map.vm_flags & VmFlags.VM_MAYWRITE
            and vma.vm_flags & VmFlags.VM_MAYWRITE):
        world.emit("warn", "legacy_granted_maywrite")
    if vma.vm_flags != map.vm_flags:
        world.emit("note", "legacy_changed_flags")
    map.file = vma.vm_file
    map.vm_flags = vma.vm_flags
    return 0


@kernel_function("mm/vma.c")
def __mmap_new_vma(map, action):
    """Allocate, set up and insert a brand-new VMA; returns (err, vma)."""
    world = map.world
    mm = map.mm
    vma = vm_area_alloc(mm)
    if vma is None:
        return -Errno.ENOMEM, None
    vma.vm_start, vma.vm_end, vma.vm_pgoff = map.addr, map.end, map.pgoff
    vma.vm_flags = map.vm_flags
    vma.vm_page_prot = map.page_prot
    if world.faults.take("prealloc"):
        world.emit("error", "prealloc_fail_new")
        vm_area_free(vma)
        return -Errno.ENOMEM, None
    if map.file is not None:
        err = __mmap_new_file_vma(map, vma)
    elif vma.vm_flags & VmFlags.VM_SHARED:
        err = shmem_zero_setup(vma)
    else:
        vma.vm_ops = None     # vma_set_anonymous
        err = 0
    if err:
        vm_area_free(vma)
        return err, None
    if not map.check_ksm_early:
        vma.vm_flags = ksm_vma_flags(mm, vma.vm_file, vma.vm_flags)
    vma_start_write(vma)
    # An mmap_prepare VMA is set up only once its action and hooks have run (S10).
    vma.setup_pending = map.file is not None and map.file.f_op.mmap_prepare is not None
    vma.vm_refcnt = 1
    mm.mm_mt.store(vma)
    mm.map_count += 1
    world.emit("vma", "vma_stored", vma=vma.id, start=vma.vm_start, end=vma.vm_end)
    hold = (map.hold_file_rmap_lock if world.variant.hide_flag_in_map_state
            else action.hide_from_rmap_until_complete)
    vma_link_file(vma, hold)
    return 0, vma


@kernel_function("mm/shmem.c", "simplified")
def shmem_zero_setup(vma) -> int:
    """An anonymous shared mapping is backed by a new, unlinked shmem file ("/dev/zero")."""
    world = vma.world
    f = world.new_shmem_zero_file(vma.vm_end - vma.vm_start)
    vma.vm_file = f
    vma.vm_ops = world.shmem_vm_ops
    return 0


def set_vma_user_defined_fields(vma, map):
    """S8: copy the driver's vm_ops/private_data to the VMA, even a merged one (spec §5)."""
    if map.vm_ops is not None:
        vma.vm_ops = map.vm_ops
    vma.vm_private_data = map.vm_private_data


def vma_supports_mlock(vma) -> bool:
    """VM_SPECIAL and hugetlb VMAs cannot be mlocked. (mm/internal.h)"""
    return not vma.vm_flags & (VM_SPECIAL | VmFlags.VM_HUGETLB)


@kernel_function("mm/vma.c")
def __mmap_complete(map, vma):
    """Free what the new mapping replaced, account it, set soft-dirty and the page protection."""
    mm = map.mm
    vms_complete_munmap_vmas(map.vms)
    vm_stat_account(mm, vma.vm_flags, map.pglen)
    if vma.vm_flags & VmFlags.VM_LOCKED:
        if not vma_supports_mlock(vma):
            vma.vm_flags &= ~VM_LOCKED_MASK
        else:
            mm.locked_vm += map.pglen
    if map.world.config.soft_dirty:
        vma.vm_flags |= VmFlags.VM_SOFTDIRTY
    vma.vm_page_prot = vm_get_page_prot(vma.vm_flags)


@kernel_function("mm/vma.c")
def call_action_complete(map, desc, vma) -> int:
    """Baseline (Oct 2025): complete the action, and only afterwards drop the rmap lock."""
    ret = mmap_action_complete(vma, desc.action)
    if map.hold_file_rmap_lock:
        vma.hidden = False
        i_mmap_unlock_write(vma.vm_file.f_mapping)
    return ret


@kernel_function("mm/vma.c")
def __mmap_region(mm, file, addr, length, vm_flags, pgoff) -> int:
    world = mm.world
    have_mmap_prepare = file is not None and file.f_op.mmap_prepare is not None
    vmi = vma_iterator(mm, addr)
    map = mmap_state(mm, vmi, addr, length, pgoff, vm_flags, file)
    desc = vm_area_desc(mm, file)
    allocated_new = False
    _step(world, "S0", start=addr, end=addr + length, prepare=have_mmap_prepare)
    map.check_ksm_early = can_set_ksm_flags_early(map)
    _step(world, "S2")
    error = __mmap_setup(map, desc)
    if not error and have_mmap_prepare:
        _step(world, "S3")
        error = call_mmap_prepare(map, desc)
    if error:
        _step(world, "S4", errno=error)
        return _abort_munmap(map, error)
    if map.check_ksm_early:
        update_ksm_flags(map)
    vma = None
    if map.prev is not None or map.next is not None:
        _step(world, "S6", hook=("mmap_prepare" if have_mmap_prepare else
                                  "mmap" if file is not None else None))
        vmg = vma_merge_struct(mm, vmi, map.addr, map.end, map.pgoff, map.vm_flags, map.file,
                               prev=map.prev, next=map.next)
        vma = vma_merge_new_range(vmg)
    if vma is None:
        _step(world, "S7")
        error, vma = __mmap_new_vma(map, desc.action)
        if error:
            return _unacct_error(map, error)
        allocated_new = True
    elif have_mmap_prepare:
        world.emit("note", "merged_no_action", vma=vma.id)
    if have_mmap_prepare:
        _step(world, "S8", vma=vma.id)
        set_vma_user_defined_fields(vma, map)
    _step(world, "S9")
    __mmap_complete(map, vma)
    if have_mmap_prepare and allocated_new:
        _step(world, "S10")
        error = _complete_by_variant(map, desc, vma)
        if error:
            return error
    _step(world, "S11", addr=addr)
    return addr


def _complete_by_variant(map, desc, vma) -> int:
    """S10 as each variant wrote it (spec §0.1): three shapes of the same completion."""
    completion = map.world.variant.completion
    if completion == "unlock_after_finish":
        return call_action_complete(map, desc, vma)
    if completion == "unlock_then_mapped":
        error = mmap_action_complete(vma, desc.action, rmap_lock_held=map.hold_file_rmap_lock)
        return error or call_mapped_hook(map, vma)
    return mmap_action_complete(vma, desc.action)


def _unacct_error(map, error):
    world = map.world
    _step(world, "E1")
    if map.charged:
        vm_unacct_memory(world, map.charged)
    return _abort_munmap(map, error)


def _abort_munmap(map, error):
    world = map.world
    _step(world, "E2", put_swapped=map.file_doesnt_need_get
          and world.variant.abort_puts_swapped_file)
    if map.file_doesnt_need_get and world.variant.abort_puts_swapped_file:
        # Only since "mm/vma: fix memory leak in __mmap_region()" (31 Mar 2026): before it
        # the swapped-in file's reference leaked here (spec §6h).
        fput(map.file)
    vms_abort_munmap_vmas(map.vms)
    return error


@kernel_function("mm/vma.c")
def mmap_region(mm, file, addr, length, vm_flags, pgoff) -> int:
    """Checks that must precede __mmap_region, and the temporary writable count of a shared file."""
    mmap_assert_write_locked(mm)
    if mm.world.config.mdwe and vm_flags & VmFlags.VM_WRITE and vm_flags & VmFlags.VM_EXEC:
        return -Errno.EACCES
    writable = file is not None and is_shared_maywrite(vm_flags)
    if writable:
        if mapping_map_writable(file.f_mapping):
            return -Errno.EPERM
    ret = __mmap_region(mm, file, addr, length, vm_flags, pgoff)
    if writable:
        mapping_unmap_writable(file.f_mapping)
    return ret
