"""do_mmap without an MMU (mm/nommu.c), simplified to what the mmap_prepare story needs.

Without an MMU there are no page tables and no merging; every file, mmap_prepare files
included, is reached through mmap_file() = vfs_mmap(), so an mmap_prepare file always
takes the compat path (spec §3.6).
"""

from .compat import mmap_file
from .errno import Errno
from .file_ops import fput, get_file, vma_link_file
from .instrument import kernel_function
from .mm_types import FMODE_WRITE
from .uapi import MAP_FIXED, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_TYPE, PAGE_MASK, PAGE_SHIFT, PAGE_SIZE, PROT_WRITE
from .vm_flags import VmFlags
from .vma_split import vm_area_alloc, vm_area_free


@kernel_function("mm/nommu.c", "simplified")
def validate_mmap_request(file, addr, length, prot, flags, pgoff) -> int:
    if flags & MAP_FIXED:
        return -Errno.EINVAL
    if flags & MAP_TYPE not in (MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE):
        return -Errno.EINVAL
    if not length:
        return -Errno.EINVAL
    if file is not None:
        if file.f_op.mmap is None and file.f_op.mmap_prepare is None:
            return -Errno.ENODEV
        if flags & MAP_TYPE != MAP_PRIVATE and prot & PROT_WRITE and not file.f_mode & FMODE_WRITE:
            return -Errno.EACCES
    return 0


@kernel_function("mm/nommu.c", "simplified")
def do_mmap(mm, file, addr, length, prot, flags, pgoff):
    """nommu's do_mmap: carve a region, run the file's hook through mmap_file(), add the VMA."""
    world = mm.world
    err = validate_mmap_request(file, addr, length, prot, flags, pgoff)
    if err:
        return err, 0
    length = (length + PAGE_SIZE - 1) & PAGE_MASK
    vm_flags = (prot & 0x7) | VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE | VmFlags.VM_MAYEXEC
    if flags & MAP_TYPE != MAP_PRIVATE:
        vm_flags |= VmFlags.VM_SHARED | VmFlags.VM_MAYSHARE
    # No MMU: the region is carved out of physical memory; the model uses a top-down search.
    from .do_mmap import unmapped_area_topdown
    start = unmapped_area_topdown(mm, length, PAGE_SIZE)
    if start < 0:
        return start, 0
    vma = vm_area_alloc(mm)
    if vma is None:
        return -Errno.ENOMEM, 0
    vma.vm_start, vma.vm_end, vma.vm_flags = start, start + length, int(vm_flags)
    vma.vm_pgoff = pgoff if file is not None else start >> PAGE_SHIFT
    if file is not None:
        vma.vm_file = get_file(file)
        err = mmap_file(file, vma)
        if err:
            world.emit("note", "nommu_hook_fail", errno=err)
            fput(vma.vm_file)
            vm_area_free(vma)
            return err, 0
    vma.vm_refcnt = 1
    mm.mm_mt.store(vma)
    mm.map_count += 1
    vma_link_file(vma, False)
    world.emit("vma", "nommu_added", vma=vma.id, start=vma.vm_start, end=vma.vm_end)
    return vma.vm_start, 0
