"""/proc/PID/maps: print the model in the kernel's exact line format, and read a real one.

Mirrors show_map_vma() in fs/proc/task_mmu.c: `start-end perms offset major:minor inode`,
then the name padded to column 73.
"""

import re

from .errors import InputError
from .uapi import PAGE_SHIFT
from .vm_flags import SMAPS_MNEMONICS, VmFlags

_NAME_COLUMN = 73
# Inode kinds that are always unlinked, so d_path() ends their name with " (deleted)".
DELETED_KINDS = ("memfd", "shmem-zero")


def vma_perms(vma) -> str:
    """The rwxp/rwxs column of /proc/PID/maps. (fs/proc/task_mmu.c)"""
    f = vma.vm_flags
    return ("r" if f & VmFlags.VM_READ else "-") + ("w" if f & VmFlags.VM_WRITE else "-") + \
        ("x" if f & VmFlags.VM_EXEC else "-") + ("s" if f & VmFlags.VM_MAYSHARE else "p")


def mangle_path(path: str, esc: str) -> str:
    """Each character of esc as a backslash and three octal digits ('\\n' -> '\\012'); nothing
    else, not even a backslash, is escaped. (fs/seq_file.c)"""
    for ch in esc:
        path = path.replace(ch, f"\\{ord(ch):03o}")
    return path


def vma_name(vma) -> str:
    """The name column: the file path, ' (deleted)' for unlinked shmem, or the anon name.

    A path is printed through seq_path(..., "\\n"), so a newline in it shows as \\012; a
    kernel without an MMU (fs/proc/task_nommu.c) escapes nothing. Mirrors fs/proc/task_mmu.c.
    """
    f = vma.vm_file
    if f is not None:
        path = f.f_inode.name + (" (deleted)" if f.f_inode.kind in DELETED_KINDS else "")
        return mangle_path(path, "\n" if vma.world.config.mmu else "")
    return vma.anon_name or ""


def format_maps_line(start, end, perms, offset, dev, inode, name) -> str:
    """One maps line; the name starts at column 73 as seq_pad() leaves it. (fs/proc/task_mmu.c)"""
    line = f"{start:08x}-{end:08x} {perms} {offset:08x} {dev[0]:02x}:{dev[1]:02x} {inode} "
    if name:
        line = line.ljust(_NAME_COLUMN) + name
    return line


def show_map_vma(vma) -> str:
    """The maps line of one VMA; anonymous VMAs show offset 0 whatever their vm_pgoff.

    Mirrors fs/proc/task_mmu.c.
    """
    f = vma.vm_file
    if f is not None:
        ino = f.f_inode
        return format_maps_line(vma.vm_start, vma.vm_end, vma_perms(vma),
                                vma.vm_pgoff << PAGE_SHIFT, ino.dev, ino.i_ino, vma_name(vma))
    return format_maps_line(vma.vm_start, vma.vm_end, vma_perms(vma), 0, (0, 0), 0, vma_name(vma))


def show_smap_vma_flags(vma) -> list:
    """The VmFlags line of /proc/PID/smaps: one mnemonic per set bit, lowest bit first.

    Mirrors fs/proc/task_mmu.c."""
    flags = vma.vm_flags
    return [SMAPS_MNEMONICS[bit] for bit in sorted(SMAPS_MNEMONICS) if flags & bit]


def proc_maps_lines(mm, start=0, end=None) -> list:
    """Every VMA overlapping [start, end) as maps lines. (fs/proc/task_mmu.c)"""
    end = mm.task_size if end is None else end
    return [show_map_vma(v) for v in mm.mm_mt.range(start, end)]


# The kernel pads with spaces only and prints the inode in decimal ASCII: anything else
# (a tab, a Unicode digit) belongs to the name or makes the line not a maps line.
_LINE = re.compile(r"([0-9a-f]+)-([0-9a-f]+) ([r-][w-][x-][sp]) ([0-9a-f]+) "
                   r"([0-9a-f]+):([0-9a-f]+) ([0-9]+)(?: +(.*))?")


def parse_maps_line(line: str) -> dict:
    """One /proc/PID/maps line (without its newline) as a dict; InputError naming the line
    if it is not one. The name is as printed (a newline in it is still \\012)."""
    m = _LINE.fullmatch(line.removesuffix("\n"))
    if not m:
        raise InputError(f"not a /proc/PID/maps line: {line.strip()[:80]!r} "
                         "(expected 'start-end perms offset major:minor inode [name]')")
    start, end = int(m[1], 16), int(m[2], 16)
    if end <= start:
        raise InputError(f"maps line has end <= start: {line.strip()[:80]!r}")
    return {"start": start, "end": end, "perms": m[3], "offset": int(m[4], 16),
            "dev": (int(m[5], 16), int(m[6], 16)), "inode": int(m[7]), "name": m[8] or ""}


def maps_lines(text: str) -> list:
    """The lines of a maps text: split at '\\n' only, since the kernel escapes only that in a
    name (a form feed, U+2028 or '\\r' is part of the name). A text saved with '\\r\\n' line
    ends throughout (every ended line) is read as if it had '\\n'."""
    lines = text.split("\n")
    ended, last = lines[:-1], lines[-1]
    if ended and all(line.endswith("\r") for line in ended):
        ended = [line[:-1] for line in ended]
    return ended + ([last] if last else [])


def parse_maps(text: str) -> list:
    """Parse a whole maps text (the inverse of show_map_vma). (fs/proc/task_mmu.c)"""
    return [parse_maps_line(line) for line in maps_lines(text) if line.strip()]
