"""mmap and munmap without an MMU (mm/nommu.c), simplified to what the mmap_prepare story needs.

Without an MMU there are no page tables and no merging. Whether a file can be mapped at all
depends on its capabilities: NOMMU_MAP_DIRECT (map the driver's own memory, which needs
f_op->get_unmapped_area to say where it is) or NOMMU_MAP_COPY (read the file into a private
copy). Every mapping that maps a file directly reaches it through mmap_file() = vfs_mmap(),
so an mmap_prepare file always takes the compat path (spec §3.6), and its do_munmap() is
nommu's own: it finds no VMA for a mapping not yet added, warns and returns -EINVAL.
Not modelled: vm_region sharing between mappings, VM_MAYOVERLAY, the private-copy read.
"""

from .compat import mmap_file
from .errno import Errno
from .file_ops import __remove_shared_vm_struct, fput, get_file, vma_link_file
from .instrument import kernel_function
from .locking import i_mmap_lock_write, i_mmap_unlock_write
from .mm_types import FMODE_READ, FMODE_WRITE
from .uapi import MAP_FIXED, MAP_PRIVATE, MAP_SHARED, MAP_TYPE, PAGE_MASK, PAGE_SHIFT, PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE
from .vm_flags import VmFlags
from .vma_munmap import vma_close
from .vma_split import vm_area_alloc, vm_area_free

# include/linux/fs.h
NOMMU_MAP_COPY = 0x00000001
NOMMU_MAP_DIRECT = 0x00000008
NOMMU_MAP_READ = VmFlags.VM_MAYREAD
NOMMU_MAP_WRITE = VmFlags.VM_MAYWRITE
NOMMU_MAP_EXEC = VmFlags.VM_MAYEXEC
NOMMU_VMFLAGS = NOMMU_MAP_READ | NOMMU_MAP_WRITE | NOMMU_MAP_EXEC

ENOSYS = -38


def file_capabilities(file) -> int:
    """f_op->mmap_capabilities(), else the default of the file type: a character device may be
    mapped directly, a regular file only copied. (mm/nommu.c)"""
    if file.f_op.mmap_capabilities is not None:
        return file.f_op.mmap_capabilities(file)
    if file.f_inode.kind == "device":
        return NOMMU_MAP_DIRECT | NOMMU_MAP_READ | NOMMU_MAP_WRITE
    return NOMMU_MAP_COPY


@kernel_function("mm/nommu.c", "simplified")
def validate_mmap_request(file, addr, length, prot, flags, pgoff):
    """Can this mapping be made, and how: returns (0 or -errno, capabilities)."""
    if flags & MAP_FIXED:
        return -Errno.EINVAL, 0
    if flags & MAP_TYPE not in (MAP_SHARED, MAP_PRIVATE):
        return -Errno.EINVAL, 0
    if not length:
        return -Errno.EINVAL, 0
    if file is None:
        return 0, NOMMU_MAP_COPY
    if file.f_op.mmap is None and file.f_op.mmap_prepare is None:
        return -Errno.ENODEV, 0
    caps = file_capabilities(file)
    if file.f_op.get_unmapped_area is None:
        caps &= ~NOMMU_MAP_DIRECT
    if not file.f_mode & FMODE_READ:
        return -Errno.EACCES, 0
    if flags & MAP_TYPE == MAP_SHARED:
        if prot & PROT_WRITE and not file.f_mode & FMODE_WRITE:
            return -Errno.EACCES, 0
        if not caps & NOMMU_MAP_DIRECT:
            file.world.emit("error", "nommu_no_direct")
            return -Errno.ENODEV, 0
        caps &= ~NOMMU_MAP_COPY
    else:
        if not caps & NOMMU_MAP_COPY:
            return -Errno.ENODEV, 0
        if prot & PROT_WRITE:
            caps &= ~NOMMU_MAP_DIRECT
    if caps & NOMMU_MAP_DIRECT:
        if ((prot & PROT_READ and not caps & NOMMU_MAP_READ)
                or (prot & PROT_WRITE and not caps & NOMMU_MAP_WRITE)
                or (prot & PROT_EXEC and not caps & NOMMU_MAP_EXEC)):
            caps &= ~NOMMU_MAP_DIRECT
            if flags & MAP_TYPE == MAP_SHARED:
                file.world.emit("warn", "nommu_shared_partial")
                return -Errno.EINVAL, 0
    return 0, caps


def determine_vm_flags(file, prot, flags, caps) -> int:
    """Translate what validate_mmap_request allowed into VM_* flags. (mm/nommu.c)"""
    vm_flags = prot & (PROT_READ | PROT_WRITE | PROT_EXEC)
    if file is None:
        # MAP_SHARED anonymous memory is private: without fork() nobody could share it.
        vm_flags |= VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE | VmFlags.VM_MAYEXEC
    elif flags & MAP_TYPE == MAP_PRIVATE:
        if caps & NOMMU_MAP_DIRECT:
            vm_flags |= caps & NOMMU_VMFLAGS
        else:
            vm_flags |= VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE | VmFlags.VM_MAYEXEC
    else:
        vm_flags |= VmFlags.VM_SHARED | VmFlags.VM_MAYSHARE | (caps & NOMMU_VMFLAGS)
    return vm_flags


@kernel_function("mm/nommu.c", "simplified")
def do_mmap(mm, file, addr, length, prot, flags, pgoff):
    """nommu's do_mmap: choose the memory, run the file's hook through mmap_file(), add the VMA."""
    world = mm.world
    err, caps = validate_mmap_request(file, addr, length, prot, flags, pgoff)
    if err:
        return err, 0
    length = (length + PAGE_SIZE - 1) & PAGE_MASK
    vm_flags = determine_vm_flags(file, prot, flags, caps)
    start = None
    if file is not None and vm_flags & VmFlags.VM_SHARED and caps & NOMMU_MAP_DIRECT:
        # The driver says where its memory is (the hook quasi-memory devices provide).
        start = file.f_op.get_unmapped_area(file, 0, length, pgoff, flags)
        if start < 0:
            if start != ENOSYS or not caps & NOMMU_MAP_COPY:
                return (-Errno.ENODEV if start == ENOSYS else start), 0
            caps &= ~NOMMU_MAP_DIRECT
            start = None
    if start is None:
        # A private copy is carved out of physical memory; the model searches top-down.
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
    if file is not None and (vm_flags & VmFlags.VM_SHARED or caps & NOMMU_MAP_DIRECT):
        # do_mmap_shared_file(), or do_mmap_private() of a directly mapped file.
        err = mmap_file(file, vma)
        if err == ENOSYS and vm_flags & VmFlags.VM_SHARED:
            err = -Errno.ENODEV
        if err:
            world.emit("note", "nommu_hook_fail", errno=err)
            fput(vma.vm_file)
            vm_area_free(vma)
            return err, 0
    vma.vm_refcnt = 1
    mm.mm_mt.store(vma)
    mm.map_count += 1
    mm.total_vm += length >> PAGE_SHIFT
    vma_link_file(vma, False)
    world.emit("vma", "nommu_added", vma=vma.id, start=vma.vm_start, end=vma.vm_end)
    return vma.vm_start, 0


@kernel_function("mm/nommu.c", quiet=True)
def delete_vma_from_mm(vma):
    """Take the VMA out of its mm's tree and its file's i_mmap."""
    mm = vma.vm_mm
    mm.map_count -= 1
    f = vma.vm_file
    if f is not None and vma.id in f.f_mapping.i_mmap:
        i_mmap_lock_write(f.f_mapping)
        __remove_shared_vm_struct(vma, f.f_mapping)
        i_mmap_unlock_write(f.f_mapping)
    mm.mm_mt.erase(vma)
    vma.vm_refcnt = 0


@kernel_function("mm/nommu.c", quiet=True)
def delete_vma(mm, vma):
    """Close the VMA, drop its file reference and free it."""
    vma_close(vma)
    if vma.vm_file is not None:
        fput(vma.vm_file)
    vm_area_free(vma)
    mm.world.emit("vma", "vma_freed", vma=vma.id)


def _shrink(mm, vma, start, end):
    """vmi_shrink_vma(): cut [start, end) off one end of an anonymous VMA (mm/nommu.c)."""
    tree = mm.mm_mt
    tree.erase(vma)
    if start > vma.vm_start:
        vma.vm_end = start
    else:
        vma.vm_start = end
    tree.store(vma)
    return 0


def _split_below(mm, vma, addr):
    """split_vma(new_below=1) of an anonymous VMA: a new VMA takes [vm_start, addr)."""
    if mm.map_count >= mm.world.config.max_map_count:
        return -Errno.ENOMEM
    new = vm_area_alloc(mm)
    if new is None:
        return -Errno.ENOMEM
    for field in ("vm_flags", "vm_page_prot", "vm_ops", "vm_private_data"):
        setattr(new, field, getattr(vma, field))
    new.vm_start, new.vm_end, new.vm_pgoff = vma.vm_start, addr, vma.vm_pgoff
    tree = mm.mm_mt
    tree.erase(vma)
    vma.vm_pgoff += (addr - vma.vm_start) >> PAGE_SHIFT
    vma.vm_start = addr
    tree.store(vma)
    new.vm_refcnt = 1
    tree.store(new)
    mm.map_count += 1
    return 0


@kernel_function("mm/nommu.c", "simplified")
def do_munmap(mm, start, length) -> int:
    """nommu's do_munmap: the range must be backed by one VMA; a file VMA only as a whole.

    With no VMA there at all it warns ("munmap of memory not mmapped") and returns -EINVAL.
    """
    world = mm.world
    length = (length + PAGE_SIZE - 1) & PAGE_MASK
    if not length:
        return -Errno.EINVAL
    end = start + length
    vma = mm.mm_mt.find_intersection(start, end)
    if vma is None:
        world.emit("warn", "nommu_munmap_none", start=start, end=end)
        return -Errno.EINVAL
    if vma.vm_file is not None:
        for v in mm.mm_mt.range(start, end):
            if start > v.vm_start:
                return -Errno.EINVAL
            if end == v.vm_end:
                delete_vma_from_mm(v)
                delete_vma(mm, v)
                return 0
        return -Errno.EINVAL
    if start == vma.vm_start and end == vma.vm_end:
        delete_vma_from_mm(vma)
        delete_vma(mm, vma)
        return 0
    if start < vma.vm_start or end > vma.vm_end:
        return -Errno.EINVAL
    if start != vma.vm_start and end != vma.vm_end:
        err = _split_below(mm, vma, start)
        if err:
            return err
    return _shrink(mm, vma, start, end)


def ramfs_mmap_capabilities(file) -> int:
    """A memory-backed file (ramfs; shmem and memfd without an MMU) may be mapped directly,
    copied, and with any protection. (fs/ramfs/file-nommu.c)"""
    return NOMMU_MAP_DIRECT | NOMMU_MAP_COPY | NOMMU_VMFLAGS


def ramfs_nommu_get_unmapped_area(file, addr, length, pgoff, flags) -> int:
    """Where a memory-backed file's pages are; the model picks a free stretch top-down (the
    kernel returns the address of the file's contiguous pages). (fs/ramfs/file-nommu.c)"""
    from .do_mmap import unmapped_area_topdown
    return unmapped_area_topdown(file.world.mm, length, PAGE_SIZE)
