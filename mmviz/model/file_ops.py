"""File references and the file rmap (i_mmap) membership of VMAs (fs/file_table.c, mm/vma.c)."""

from .errors import ModelBug
from .instrument import kernel_function
from .locking import i_mmap_lock_write, i_mmap_unlock_write
from .vm_flags import VmFlags

_SHARED_MAYWRITE = VmFlags.VM_SHARED | VmFlags.VM_MAYWRITE


def get_file(f):
    """Take a reference on f. (include/linux/fs.h)"""
    f.f_count += 1
    f.world.files_touched.add(f)      # checked when the system call returns (file_refs.py)
    return f


def fput(f):
    """Drop a reference on f. (fs/file_table.c)"""
    if f.f_count <= 0:
        raise ModelBug(f"fput on {f.label} with no reference left")
    f.f_count -= 1
    f.world.files_touched.add(f)


def vma_set_file(vma, f):
    """Make vma map f, swapping the file references (mm/util.c)."""
    get_file(f)
    fput(vma.vm_file)
    vma.vm_file = f


def is_shared_maywrite(flags) -> bool:
    """VM_SHARED and VM_MAYWRITE both set. (include/linux/mm.h)"""
    return (flags & _SHARED_MAYWRITE) == _SHARED_MAYWRITE


def mapping_map_writable(mapping) -> int:
    """Take a writable-mapping count; a negative count means writes are sealed off."""
    if mapping.i_mmap_writable < 0:
        return -1
    mapping.i_mmap_writable += 1
    return 0


def mapping_unmap_writable(mapping):
    """Drop a writable-mapping count. (include/linux/fs.h)"""
    mapping.i_mmap_writable -= 1


@kernel_function("mm/vma.c", quiet=True)
def __vma_link_file(vma, mapping):
    if is_shared_maywrite(vma.vm_flags):
        mapping.i_mmap_writable += 1
    mapping.i_mmap[vma.id] = vma
    vma.shared_rb = mapping


@kernel_function("mm/mmap.c", quiet=True)
def __remove_shared_vm_struct(vma, mapping):
    if is_shared_maywrite(vma.vm_flags):
        mapping_unmap_writable(mapping)
    if mapping.i_mmap.pop(vma.id, None) is None:
        raise ModelBug(f"{vma.label} was not in the i_mmap of {vma.vm_file.label}")
    vma.shared_rb = None


@kernel_function("mm/vma.c")
def vma_link_file(vma, hold_rmap_lock: bool):
    """Insert vma into its file's i_mmap; with hold_rmap_lock, return with i_mmap_rwsem held."""
    f = vma.vm_file
    if f is None:
        return
    mapping = f.f_mapping
    world = vma.world
    i_mmap_lock_write(mapping)
    __vma_link_file(vma, mapping)
    world.emit("vma", "rmap_linked", vma=vma.id, file=f.label)
    if hold_rmap_lock:
        vma.hidden = True
        world.emit("note", "hide_held", vma=vma.id, file=f.label)
    else:
        i_mmap_unlock_write(mapping)


@kernel_function("mm/vma.c", "simplified")
def unlink_file_vma_batch_process(vmas):
    """Remove unmapped file VMAs from their rmaps, one i_mmap_rwsem write lock per file."""
    by_mapping = {}
    for vma in vmas:
        if vma.vm_file is not None:
            by_mapping.setdefault(id(vma.vm_file.f_mapping), (vma.vm_file.f_mapping, []))[1].append(vma)
    for mapping, group in by_mapping.values():
        i_mmap_lock_write(mapping)
        for vma in group:
            if vma.id in mapping.i_mmap:
                __remove_shared_vm_struct(vma, mapping)
        i_mmap_unlock_write(mapping)
