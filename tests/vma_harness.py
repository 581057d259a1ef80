"""Helpers in the style of the kernel's tools/testing/vma (shared.c), for the model.

The kernel's userspace VMA tests build an address space by hand (`alloc_and_link_vma`),
set up a `vma_merge_struct`, call the merge functions directly and assert on the result.
These helpers do the same against an mmviz World, so the acceptance cases of spec §7.2
read like their kernel originals.  They work at the vmg level: callers must hold the
modelled mmap_lock for write (`mmap_locked(world)`), exactly as the model asserts.

`ascii_layout` draws the address space the way the kernel tests' comments do: one
character per page, a letter per VMA, '.' for a hole, followed by a legend.
"""

from __future__ import annotations

import textwrap
from contextlib import contextmanager

from mmviz.model.file_ops import vma_link_file
from mmviz.model.locking import mmap_write_lock, mmap_write_unlock, vma_is_write_locked
from mmviz.model.mm_types import vm_operations_struct
from mmviz.model.mmap_region import vm_get_page_prot
from mmviz.model.uapi import PAGE_SHIFT, PAGE_SIZE
from mmviz.model.vm_flags import VmFlags
from mmviz.model.vma_merge import (VMA_MERGE_NOMERGE, vma_iterator, vma_merge_new_range,
                                   vma_merge_struct)

VM_RW = int(VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE)

# The special bits worth naming in a legend (R/W/X/shared are in the perms column).
_LEGEND_FLAGS = tuple((name, getattr(VmFlags, "VM_" + name)) for name in (
    "IO", "DONTEXPAND", "PFNMAP", "MIXEDMAP", "SOFTDIRTY", "MAYBE_GUARD", "ACCOUNT"))


@contextmanager
def mmap_locked(world):
    """Hold the modelled mmap_lock for write, as every model-level call requires.

    Releasing it drops every per-VMA write lock (spec §1.1), so `vma_write_started`
    inside one `with` block reports only the write locks taken in that block.
    """
    mmap_write_lock(world.mm)
    try:
        yield world.mm
    finally:
        mmap_write_unlock(world.mm)


def dummy_close(vma):
    """A vm_ops->close that does nothing; its presence is what the merge rules look at."""


def close_ops():
    return vm_operations_struct("dummy_vm_ops_with_close", close=dummy_close)


def alloc_vma(world, start, end, pgoff, flags, file=None):
    """A detached VMA [start, end) with pgoff and flags (shared.c alloc_vma)."""
    vma = world.new_vma(world.mm)
    vma.vm_start, vma.vm_end, vma.vm_pgoff = start, end, pgoff
    vma.vm_flags = int(flags)
    vma.vm_page_prot = vm_get_page_prot(vma.vm_flags)
    if file is not None:
        file.f_count += 1
        vma.vm_file = file
    return vma


def vma_link(world, vma):
    """Insert a detached VMA into the tree and its file's rmap; bump map_count."""
    mm = world.mm
    if mm.mm_mt.find_intersection(vma.vm_start, vma.vm_end) is not None:
        raise AssertionError(f"vma_link: [{vma.vm_start:#x},{vma.vm_end:#x}) is occupied")
    vma.vm_refcnt = 1
    mm.mm_mt.store(vma)
    mm.map_count += 1
    vma_link_file(vma, False)


def alloc_and_link_vma(world, start, end, pgoff, flags, file=None):
    """alloc_vma + vma_link (shared.c).

    Like the kernel helper it resets the VMA's lock sequence, so that a later
    `vma_write_started` reports only write locks taken by the code under test.
    """
    vma = alloc_vma(world, start, end, pgoff, flags, file)
    vma_link(world, vma)
    vma.vm_lock_seq = -1
    return vma


def vma_write_started(vma) -> bool:
    """True if vma_start_write ran on vma in the current mmap_lock write section."""
    return vma_is_write_locked(vma)


def vma_set_dummy_anon_vma(vma, av):
    """Give vma the anon_vma `av` with a single-entry chain: it is not a fork child."""
    from mmviz.model.rmap import anon_vma_chain_alloc, anon_vma_chain_link
    vma.anon_vma = av
    anon_vma_chain_link(vma, anon_vma_chain_alloc(vma.world, vma, av), av)
    av.num_active_vmas += 1


def vmg_for_new_range(world, start, end, pgoff, flags, *, file=None, vmi=None):
    """A vmg for the new range [start, end), as VMG_STATE() sets one up."""
    vmi = vmi or vma_iterator(world.mm, start)
    return vma_merge_struct(world.mm, vmi, start, end, pgoff, int(flags), file)


def merge_new(world, start, end, pgoff, flags, *, file=None, vmi=None, vmg=None):
    """Find prev and next around [start, end) and call vma_merge_new_range (shared.c).

    Returns (merged VMA or None, vmg) so tests can check vmg.state and the rewritten span.
    """
    if vmg is None:
        vmg = vmg_for_new_range(world, start, end, pgoff, flags, file=file, vmi=vmi)
    tree = world.mm.mm_mt
    vmg.prev = tree.prev_before(vmg.start)
    vmg.next = tree.next_from(vmg.start)
    return vma_merge_new_range(vmg), vmg


def try_merge_new_vma(world, start, end, pgoff, flags, *, file=None):
    """merge_new, and if nothing merged, allocate and link a new VMA (merge.c helper).

    Returns (vma, merged, vmg).
    """
    vma, vmg = merge_new(world, start, end, pgoff, flags, file=file)
    if vma is not None:
        return vma, True, vmg
    assert vmg.state == VMA_MERGE_NOMERGE, vmg.state
    return alloc_and_link_vma(world, start, end, pgoff, flags, file), False, vmg


# ------------------------------------------------------------------ pictures


def _perms(flags):
    return ("r" if flags & VmFlags.VM_READ else "-") + ("w" if flags & VmFlags.VM_WRITE else "-") \
        + ("x" if flags & VmFlags.VM_EXEC else "-") + ("s" if flags & VmFlags.VM_MAYSHARE else "p")


def ascii_layout(world, lo, hi, names=None) -> str:
    """Draw [lo, hi) one character per page, with a legend line per VMA.

    ``names`` maps VMA objects (and anon_vma objects) to the one-letter names a test
    uses for them; other VMAs get the next free capital letter in address order and
    other anon_vmas their model id.  Example (lo = 0, hi = 0x8000)::

         01234567
        |AAA..BB.|
        A [0x0,0x3000) pg=0x0 rw-p
        B [0x5000,0x7000) pg=0x5 rw-p av=X close

    The ruler gives each page's number modulo 16 (address >> 12, last hex digit).
    """
    if lo % PAGE_SIZE or hi % PAGE_SIZE or hi <= lo:
        raise ValueError("ascii_layout needs a page-aligned, non-empty [lo, hi)")
    names = dict(names or {})
    used = {n for n in names.values()}
    spare = iter(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in used)
    vmas = world.mm.mm_mt.range(lo, hi)
    npages = (hi - lo) >> PAGE_SHIFT
    strip = ["."] * npages
    legend = []
    for vma in vmas:
        letter = names.get(vma)
        if letter is None:
            letter = names[vma] = next(spare)
        first = max(vma.vm_start, lo)
        last = min(vma.vm_end, hi)
        for addr in range(first, last, PAGE_SIZE):
            strip[(addr - lo) >> PAGE_SHIFT] = letter
        line = (f"{letter} [{vma.vm_start:#x},{vma.vm_end:#x}) pg={vma.vm_pgoff:#x} "
                f"{_perms(vma.vm_flags)}")
        extra = [name for name, bit in _LEGEND_FLAGS if vma.vm_flags & bit]
        if extra:
            line += " " + "|".join(extra)
        if vma.anon_vma is not None:
            line += f" av={names.get(vma.anon_vma, repr(vma.anon_vma))}"
        if vma.vm_ops is not None and vma.vm_ops.close is not None:
            line += " close"
        legend.append(line)
    ruler = "".join(f"{((lo >> PAGE_SHIFT) + i) % 16:x}" for i in range(npages))
    return "\n".join([" " + ruler, "|" + "".join(strip) + "|"] + legend)


def check_layout(world, lo, hi, names, expected: str, when: str = ""):
    """Assert that the drawing of [lo, hi) is exactly `expected` (a hand-drawn picture)."""
    got = ascii_layout(world, lo, hi, names)
    want = "\n".join(line.rstrip() for line in textwrap.dedent(expected).strip("\n").splitlines())
    assert got == want, (f"address space {when} differs from the expected picture\n"
                         f"expected:\n{want}\n\ngot:\n{got}")
