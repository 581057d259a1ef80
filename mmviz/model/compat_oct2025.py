"""The compat path of the first mmap_action version (Oct 2025, ac0a3fc9c07d), mm/util.c.

Before v3 there was no compat_set_desc_from_vma(): compat_vma_mmap(file, vma) called
__compat_vma_mmap(file->f_op, file, vma), which builds the descriptor from the VMA itself,
runs the file's mmap_prepare, prepares the action (which could not fail), copies the
descriptor onto the VMA with set_vma_from_desc() and completes the action. Finish then
do_munmap()s on error exactly as for a new VMA of __mmap_region (spec §6e). The hide flag
is ignored here: only __mmap_region's call_action_complete() released the rmap lock.
Read in the stable backport of 3e4bb2706817, whose deleted lines show this function.
"""

from .instrument import call_hook, kernel_function
from .mm_types import vm_area_desc
from .mmap_action import mmap_action_complete, mmap_action_prepare


@kernel_function("mm/vma.h")
def set_vma_from_desc(vma, desc):
    """Copy what the hook may change back onto the VMA (the first version's helper)."""
    from .file_ops import vma_set_file
    vma.vm_pgoff = desc.pgoff
    if desc.vm_file is not vma.vm_file:
        vma_set_file(vma, desc.vm_file)
    vma.vm_flags = desc.vm_flags
    vma.vm_page_prot = desc.page_prot
    vma.vm_ops = desc.vm_ops
    vma.vm_private_data = desc.private_data


@kernel_function("mm/util.c")
def __compat_vma_mmap(f_op, file, vma) -> int:
    """Run f_op->mmap_prepare on a descriptor built from `vma`, then its action (Oct 2025)."""
    world = vma.world
    desc = vm_area_desc(vma.vm_mm, file)
    desc.start, desc.end = vma.vm_start, vma.vm_end
    desc.pgoff = vma.vm_pgoff
    desc.vm_file = vma.vm_file
    desc.vm_flags = vma.vm_flags
    desc.page_prot = vma.vm_page_prot
    err = call_hook(world, "f_op->mmap_prepare", f_op.mmap_prepare, desc)
    if err:
        return err
    if desc.action.hide_from_rmap_until_complete:
        world.emit("note", "compat_hide_kept")
    mmap_action_prepare(desc)
    set_vma_from_desc(vma, desc)
    return mmap_action_complete(vma, desc.action)
