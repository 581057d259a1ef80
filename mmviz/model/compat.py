"""Legacy .mmap callers reaching files (include/linux/fs.h vfs_mmap, mm/util.c compat_*), spec §4.

A stacked file (overlayfs, FUSE passthrough) implements .mmap and forwards to the lower
file with vfs_mmap(). If the lower file only has mmap_prepare, compat_vma_mmap() builds a
descriptor from the VMA the outer mmap is constructing — a VMA that is not yet in the tree
or in any i_mmap, so it is hidden by construction. Converted drivers with a nested
mmap_prepare callback (UIO, the Hyper-V ring buffer) call the two halves themselves:
compat_set_desc_from_vma(), their callback, then __compat_vma_mmap().

The first version (baseline) had neither half: its compat_vma_mmap() called
__compat_vma_mmap(f_op, file, vma), which runs the file's own hook (compat_oct2025.py).
"""

from .errno import Errno
from .file_ops import vma_set_file
from .instrument import call_hook, kernel_function
from .mm_types import vm_area_desc
from .mmap_action import invoke_mapped, mmap_action_complete, mmap_action_prepare, unmap_vma_locked


@kernel_function("mm/util.c")
def compat_set_desc_from_vma(desc, file, vma):
    """Fill a descriptor from the VMA a legacy caller built (v3 on); mainline also copies vm_ops."""
    desc.mm = vma.vm_mm
    desc.file = file
    desc.start, desc.end = vma.vm_start, vma.vm_end
    desc.pgoff = vma.vm_pgoff
    desc.vm_file = vma.vm_file
    desc.vm_flags = vma.vm_flags
    desc.page_prot = vma.vm_page_prot
    desc.vm_ops = vma.vm_ops if vma.world.variant.compat_desc_copies_vm_ops else None
    desc.action.type = "MMAP_NOTHING"


@kernel_function("mm/vma.h")
def compat_set_vma_from_desc(vma, desc):
    vma.vm_pgoff = desc.pgoff
    if desc.vm_file is not vma.vm_file:
        vma_set_file(vma, desc.vm_file)
    vma.vm_flags = desc.vm_flags
    vma.vm_page_prot = desc.page_prot
    vma.vm_ops = desc.vm_ops
    vma.vm_private_data = desc.private_data


@kernel_function("mm/util.c")
def __compat_vma_mmap(desc, vma) -> int:
    """Prepare the action, copy the descriptor onto the VMA and complete (v3 on).

    v3 then called ->mapped itself (__compat_vma_mapped); v4 runs it inside finish; mainline
    tells finish it is in the compat path (is_compat), so an error is only returned."""
    world = vma.world
    err = mmap_action_prepare(desc)
    if err:
        return err
    compat_set_vma_from_desc(vma, desc)
    err = mmap_action_complete(vma, desc.action, is_compat=world.variant.compat_is_compat)
    if not err and world.variant.compat_calls_mapped_separately:
        err = __compat_vma_mapped(desc.file, vma)
    return err


@kernel_function("mm/util.c")
def __compat_vma_mapped(file, vma) -> int:
    """v3 only: ->mapped called after complete; on failure it unmaps the VMA with
    unmap_vma_locked(), as in __mmap_region, although this VMA is not in the tree yet."""
    err = invoke_mapped(vma, file)
    if err:
        unmap_vma_locked(vma, "mapped")
    return err


@kernel_function("mm/util.c")
def compat_vma_mmap(file, vma) -> int:
    """Run an mmap_prepare file's hook for a VMA a legacy caller already allocated."""
    world = vma.world
    if not world.variant.compat_desc_helpers:
        from .compat_oct2025 import __compat_vma_mmap as first_compat_vma_mmap
        return first_compat_vma_mmap(file.f_op, file, vma)
    desc = vm_area_desc(vma.vm_mm, file)
    compat_set_desc_from_vma(desc, file, vma)
    err = call_hook(world, "f_op->mmap_prepare", file.f_op.mmap_prepare, desc)
    if err:
        return err
    if desc.action.hide_from_rmap_until_complete:
        if world.variant.compat_clears_hide_flag:
            world.emit("note", "compat_hide_cleared")
            desc.action.hide_from_rmap_until_complete = False
        else:
            world.emit("note", "compat_hide_kept")
    return __compat_vma_mmap(desc, vma)


@kernel_function("mm/util.c", quiet=True)
def __vma_check_mmap_hook(vma) -> int:
    """A legacy .mmap may not install ->mapped: WARN and refuse (v3, v4; the baseline has no
    ->mapped, and mainline removed the check: 3d3544a6c996 "mm/vma: remove
    __vma_check_mmap_hook()").

    The check cannot tell a stacked file's compat call, or a driver that ran its nested
    mmap_prepare through __compat_vma_mmap() (UIO), from a driver's own .mmap, so it also
    fires when a lower mmap_prepare file set ->mapped.
    """
    if not vma.world.variant.checks_mmap_hook:
        return 0
    if vma.vm_ops is not None and vma.vm_ops.mapped is not None:
        vma.world.emit("warn", "check_mmap_hook")
        return -Errno.EINVAL
    return 0


@kernel_function("include/linux/fs.h")
def vfs_mmap(file, vma) -> int:
    if file.f_op.mmap_prepare is not None:
        return compat_vma_mmap(file, vma)
    err = call_hook(vma.world, "f_op->mmap", file.f_op.mmap, file, vma)
    if err:
        return err
    return __vma_check_mmap_hook(vma)


@kernel_function("mm/internal.h")
def mmap_file(file, vma) -> int:
    err = vfs_mmap(file, vma)
    if not err:
        return 0
    # The mapping is half set up: no further driver callback may run on it.
    vma.vm_ops = vma.world.vma_dummy_vm_ops
    return err
