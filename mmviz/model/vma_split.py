"""Splitting a VMA in two at a page boundary (mm/vma.c: __split_vma, split_vma)."""

from .errno import Errno
from .instrument import call_hook, kernel_function
from .locking import i_mmap_lock_write, i_mmap_unlock_write, vma_start_write
from .file_ops import __vma_link_file, get_file
from .uapi import PAGE_SHIFT


def vm_area_alloc(mm, fn="vm_area_alloc"):
    """Allocate an empty VMA, or None when allocation failure is injected."""
    world = mm.world
    if world.faults.take("alloc"):
        world.emit("error", fn, "vm_area_alloc fails: the VMA slab is out of memory (injected)")
        return None
    return world.new_vma(mm)


def vm_area_dup(vma):
    """Copy a VMA's fields into a freshly allocated one (for a split). (mm/vma_init.c)"""
    new = vm_area_alloc(vma.vm_mm, "vm_area_dup")
    if new is None:
        return None
    for field in ("vm_start", "vm_end", "vm_pgoff", "vm_file", "vm_flags", "vm_page_prot",
                  "anon_vma", "vm_ops", "vm_private_data", "vm_policy", "anon_name",
                  "vm_userfaultfd_ctx"):
        setattr(new, field, getattr(vma, field))
    new.anon_vma_chain = list(vma.anon_vma_chain)
    return new


@kernel_function("mm/vma.c")
def __split_vma(vmi, vma, addr, new_below: bool) -> int:
    """Split vma at addr; the new VMA takes the part below addr if new_below, else above it."""
    world = vma.world
    mm = vma.vm_mm
    if vma.vm_ops is not None and vma.vm_ops.may_split is not None:
        err = call_hook(world, "vm_ops->may_split", vma.vm_ops.may_split, vma, addr)
        if err:
            return err
    new = vm_area_dup(vma)
    if new is None:
        return -Errno.ENOMEM
    if new_below:
        new.vm_end = addr
    else:
        new.vm_start = addr
        new.vm_pgoff += (addr - vma.vm_start) >> PAGE_SHIFT
    if world.faults.take("prealloc"):
        world.emit("error", "__split_vma", "vma_iter_prealloc fails (injected)")
        return -Errno.ENOMEM
    if new.vm_file is not None:
        get_file(new.vm_file)
    if new.vm_ops is not None and new.vm_ops.open is not None:
        call_hook(world, "vm_ops->open", new.vm_ops.open, new)
    vma_start_write(vma)
    vma_start_write(new)
    mapping = vma.vm_file.f_mapping if vma.vm_file is not None else None
    if mapping is not None:
        i_mmap_lock_write(mapping, "vma_prepare")
    if new_below:
        vma.vm_pgoff += (addr - vma.vm_start) >> PAGE_SHIFT
        vma.vm_start = addr
    else:
        vma.vm_end = addr
    new.vm_refcnt = 1
    mm.mm_mt.store(new)
    if mapping is not None:
        __vma_link_file(new, mapping)
        i_mmap_unlock_write(mapping, "vma_complete")
    mm.map_count += 1
    low, high = (new, vma) if new_below else (vma, new)
    world.emit("vma", "__split_vma", f"split at {addr:#x}: {low.label} [{low.vm_start:#x},"
               f"{low.vm_end:#x}) and {high.label} [{high.vm_start:#x},{high.vm_end:#x})",
               vma=new.id)
    vmi.index = vma.vm_start if new_below else new.vm_start
    return 0


@kernel_function("mm/vma.c")
def split_vma(vmi, vma, addr, new_below: bool) -> int:
    """__split_vma, refused at the map_count limit."""
    if vma.vm_mm.map_count >= vma.world.config.max_map_count:
        vma.world.emit("error", "split_vma", "map_count is at vm.max_map_count: no room for "
                       "the extra VMA a split needs")
        return -Errno.ENOMEM
    return __split_vma(vmi, vma, addr, new_below)
