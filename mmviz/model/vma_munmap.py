"""Unmapping: gather, clear, complete or abort (mm/vma.c vms_*, do_vmi_munmap; mm/mmap.c do_munmap).

MAP_FIXED replacement uses the same gather/complete/abort steps as munmap(), which is
why a failure after the old PTEs are zapped leaves a hole (spec §2.8).
"""

from .accounting import is_data_mapping, is_exec_mapping, is_stack_mapping, vm_unacct_memory
from .errno import Errno
from .file_ops import fput, unlink_file_vma_batch_process
from .instrument import call_hook, kernel_function
from .memory import unmap_vmas
from .rmap import unlink_anon_vmas
from .locking import vma_start_write
from .uapi import PAGE_MASK, PAGE_SIZE
from .vma_merge import vma_iterator
from .vm_flags import VmFlags
from .vma_split import __split_vma


class vma_munmap_struct:
    """The vms of mm/vma.h: the VMAs being removed and what they account for."""

    __slots__ = ("mm", "vmi", "vma", "prev", "next", "start", "end", "unmap_start",
                 "unmap_end", "vma_count", "nr_pages", "locked_vm", "nr_accounted", "exec_vm",
                 "stack_vm", "data_vm", "clear_ptes", "closed_vm_ops", "unlock", "detached")

    @property
    def world(self):
        return self.mm.world


def init_vma_munmap(vmi, vma, start, end, unlock=False):
    """A vms describing the unmap of [start, end), starting at vma. (mm/vma.h)"""
    vms = vma_munmap_struct()
    vms.mm = vmi.mm
    vms.vmi = vmi
    vms.vma = vma
    vms.prev = vms.next = None
    vms.start, vms.end = (start, end) if vma is not None else (0, 0)
    vms.unmap_start, vms.unmap_end = 0, vmi.mm.task_size
    vms.vma_count = vms.nr_pages = vms.locked_vm = vms.nr_accounted = 0
    vms.exec_vm = vms.stack_vm = vms.data_vm = 0
    vms.clear_ptes = False
    vms.closed_vm_ops = False
    vms.unlock = unlock
    vms.detached = []         # the side tree mt_detach
    return vms


@kernel_function("include/linux/mm.h", quiet=True)
def vma_mark_detached(vma):
    """Mark the VMA detached; WARN if it already was (the §6e symptom)."""
    if vma.vm_refcnt == 0:
        vma.world.emit("warn", "already_detached", vma=vma.id)
    vma.vm_refcnt = 0


@kernel_function("mm/vma.c", quiet=True)
def reattach_vmas(vms):
    """Put gathered VMAs back: the old mapping is restored intact."""
    for vma in vms.detached:
        vma.vm_refcnt = 1
    vms.world.emit("vma", "reattached")


@kernel_function("mm/vma.c")
def vms_gather_munmap_vmas(vms) -> int:
    """Split at the edges and detach every VMA in [start, end) into the side tree."""
    world = vms.world
    mm = vms.mm
    tree = mm.mm_mt
    first = vms.vma
    if vms.start > first.vm_start:
        if vms.end < first.vm_end and mm.map_count >= world.config.max_map_count:
            world.emit("error", "split_map_count")
            return -Errno.ENOMEM
        err = __split_vma(vms.vmi, first, vms.start, True)
        if err:
            return err
    vms.prev = tree.prev_before(vms.start)
    if vms.prev is not None:
        vms.unmap_start = vms.prev.vm_end
    for nxt in tree.range(vms.start, vms.end):
        if nxt.vm_end > vms.end:
            err = __split_vma(vms.vmi, nxt, vms.end, False)
            if err:
                reattach_vmas(vms)
                return err
        vma_start_write(nxt)
        vms.detached.append(nxt)
        vms.vma_count += 1
        vma_mark_detached(nxt)
        n = nxt.pages()
        vms.nr_pages += n
        if nxt.vm_flags & VmFlags.VM_LOCKED:
            vms.locked_vm += n
        if nxt.vm_flags & VmFlags.VM_ACCOUNT:
            vms.nr_accounted += n
        if is_exec_mapping(nxt.vm_flags):
            vms.exec_vm += n
        elif is_stack_mapping(nxt.vm_flags):
            vms.stack_vm += n
        elif is_data_mapping(nxt.vm_flags):
            vms.data_vm += n
    vms.next = tree.next_from(vms.end)
    if vms.next is not None:
        vms.unmap_end = vms.next.vm_start
    vms.clear_ptes = True
    if vms.detached:
        world.emit("vma", "gathered", vmas=[v.id for v in vms.detached])
    return 0


@kernel_function("mm/memory.c", "simplified")
def free_pgtables(vmas):
    """Free page tables and unlink the VMAs from the rmaps: the anonymous one
    (unlink_anon_vmas) and each file's i_mmap (under its i_mmap_rwsem)."""
    for vma in vmas:
        if vma.anon_vma is not None or vma.anon_vma_chain:
            unlink_anon_vmas(vma)
    unlink_file_vma_batch_process(vmas)


@kernel_function("mm/vma.c")
def vms_clear_ptes(vms):
    if not vms.clear_ptes:
        return
    vms.world.emit("note", "clear_ptes")
    unmap_vmas(vms.detached)
    free_pgtables(vms.detached)
    vms.clear_ptes = False


@kernel_function("mm/internal.h")
def vma_close(vma):
    """Call ->close and install dummy ops so that no further callback runs on the VMA."""
    if vma.vm_ops is not None and vma.vm_ops.close is not None:
        call_hook(vma.world, "vm_ops->close", vma.vm_ops.close, vma)
        vma.vm_ops = vma.world.vma_dummy_vm_ops
    vma.closed = True


@kernel_function("mm/vma.c")
def vms_clean_up_area(vms):
    """mmap over existing VMAs: zap them and call ->close before the new mapping is set up."""
    if not vms.nr_pages:
        return
    vms_clear_ptes(vms)
    for vma in vms.detached:
        vma_close(vma)
    vms.closed_vm_ops = True


@kernel_function("mm/vma.c", quiet=True)
def remove_vma(vma):
    """Close, drop the file reference and free; a second free is reported, not repeated."""
    if vma.freed:
        # The modelled kernel has a bug here (spec §6e); KASAN would report this access.
        vma.world.kernel_bug("double_free", vma=vma.id)
        return
    vma.freed = True
    vma_close(vma)
    if vma.vm_file is not None:
        fput(vma.vm_file)
    vma.world.emit("vma", "vma_freed", vma=vma.id)


@kernel_function("mm/vma.c")
def vms_complete_munmap_vmas(vms):
    world = vms.world
    mm = vms.mm
    mm.map_count -= vms.vma_count
    mm.locked_vm -= vms.locked_vm
    if not vms.nr_pages:
        return
    vms_clear_ptes(vms)
    mm.total_vm -= vms.nr_pages
    mm.exec_vm -= vms.exec_vm
    mm.stack_vm -= vms.stack_vm
    mm.data_vm -= vms.data_vm
    for vma in vms.detached:
        remove_vma(vma)
    vm_unacct_memory(world, vms.nr_accounted)
    vms.detached = []


@kernel_function("mm/vma.c")
def vms_abort_munmap_vmas(vms):
    """Undo a gather: reattach if nothing was zapped yet, else leave a hole (spec §2.8)."""
    if not vms.nr_pages:
        return
    if vms.clear_ptes:
        reattach_vmas(vms)
        return
    world = vms.world
    vms.mm.mm_mt.clear(vms.start, vms.end)
    world.emit("vma", "abort_hole", start=vms.start, end=vms.end)
    vms_complete_munmap_vmas(vms)


@kernel_function("mm/vma.c")
def do_vmi_align_munmap(vmi, vma, mm, start, end) -> int:
    vms = init_vma_munmap(vmi, vma, start, end)
    err = vms_gather_munmap_vmas(vms)
    if err:
        return err
    mm.mm_mt.clear(start, end)
    vms_complete_munmap_vmas(vms)
    return 0


@kernel_function("mm/vma.c")
def do_vmi_munmap(vmi, mm, start, length) -> int:
    if start & ~PAGE_MASK or start > mm.task_size or length > mm.task_size - start:
        return -Errno.EINVAL
    end = start + ((length + PAGE_SIZE - 1) & PAGE_MASK)
    if end == start:
        return -Errno.EINVAL
    vma = mm.mm_mt.find_intersection(start, end)
    if vma is None:
        return 0
    return do_vmi_align_munmap(vmi, vma, mm, start, end)


@kernel_function("mm/mmap.c")
def do_munmap(mm, start, length) -> int:
    return do_vmi_munmap(vma_iterator(mm, start), mm, start, length)
