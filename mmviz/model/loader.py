"""Build a model address space from a real /proc/PID/maps text."""

from .errors import InputError
from .file_ops import __vma_link_file
from .mm_types import FMODE_READ, FMODE_WRITE, file_operations
from .mmap_region import vm_get_page_prot
from .proc_maps import parse_maps
from .uapi import PAGE_SHIFT, PAGE_SIZE
from .vm_flags import VmFlags


def file_kind(name: str) -> tuple:
    """(inode kind, path) of a file named in a maps text.

    The kernel prints a newline in a path as \\012 (and a backslash as itself, so a name
    with a literal '\\012' reads back as a newline: both print the same). The name of an
    always-unlinked inode (a memfd, the shmem file behind shared /dev/zero) loses its
    ' (deleted)', which printing adds back; any other name keeps all of it.
    """
    path = name.replace("\\012", "\n")
    base = path.removesuffix(" (deleted)")
    if base != path:
        if base.startswith("/memfd:"):
            return "memfd", base
        if base == "/dev/zero":
            return "shmem-zero", base
    return "file", path


def load_maps(world, text: str):
    """Insert one VMA per maps line; lines must be sorted, page aligned and non-overlapping."""
    entries = parse_maps(text)
    mm = world.mm
    files = {}
    fops = file_operations("loaded_file_operations", mmap=lambda f, v: 0)
    prev_end = 0
    for e in entries:
        if e["start"] % PAGE_SIZE or e["end"] % PAGE_SIZE:
            raise InputError(f"maps entry {e['start']:#x}-{e['end']:#x} is not page aligned")
        if e["start"] < prev_end:
            raise InputError(f"maps entry {e['start']:#x}-{e['end']:#x} overlaps or is out of order")
        prev_end = e["end"]
        perms = e["perms"]
        flags = VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE | VmFlags.VM_MAYEXEC
        flags |= (VmFlags.VM_READ if perms[0] == "r" else 0) | \
            (VmFlags.VM_WRITE if perms[1] == "w" else 0) | (VmFlags.VM_EXEC if perms[2] == "x" else 0)
        if perms[3] == "s":
            flags |= VmFlags.VM_SHARED | VmFlags.VM_MAYSHARE
        vma = world.new_vma(mm)
        vma.vm_start, vma.vm_end, vma.vm_flags = e["start"], e["end"], int(flags)
        name = e["name"]
        if e["inode"] != 0 or (name.startswith("/") and e["dev"] != (0, 0)):
            key = (e["dev"], e["inode"], name)
            f = files.get(key)
            if f is None:
                kind, path = file_kind(name)
                ino = world.new_inode(path, kind, e["dev"])
                ino.i_ino = e["inode"]
                ino.i_size = 1 << 62
                f = files[key] = world.new_file(ino, fops, FMODE_READ | FMODE_WRITE)
            f.f_count += 1
            vma.vm_file = f
            vma.vm_pgoff = e["offset"] >> PAGE_SHIFT
            __vma_link_file(vma, f.f_mapping)
        else:
            vma.vm_pgoff = e["start"] >> PAGE_SHIFT
            vma.anon_name = name or None
        vma.vm_page_prot = vm_get_page_prot(flags)
        vma.vm_refcnt = 1
        mm.mm_mt.store(vma)
        mm.map_count += 1
        mm.total_vm += vma.pages()
    return world
