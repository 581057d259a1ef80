"""Pages and page table entries, as far as the rmap and the contents a program reads care
(mm/memory.c, mm/filemap.c, mm/shmem.c).

The model keeps, per address space, one entry per mapped page (`mm.ptes`: page address ->
folio) and, per file, its page cache (`address_space.i_pages`: page index -> folio). A
folio is one page: anonymous (its `mapping` is the anon_vma it was faulted into, `index`
the linear page index vm_pgoff + offset that rmap_walk_anon looks up) or a page-cache page
(`mapping` is the file's address_space). `data` holds the bytes written so far, by
offset; every other byte reads 0. Large folios, the zero page, swap and dirty tracking
are not modelled: a read of anonymous memory that was never written maps nothing here
and reads 0, as the zero page would.
"""

from __future__ import annotations

from .instrument import kernel_function
from .uapi import PAGE_MASK, PAGE_SHIFT, PAGE_SIZE
from .vm_flags import VM_SPECIAL


class folio:
    """One page of memory: anonymous, or in a file's page cache (include/linux/mm_types.h)."""

    __slots__ = ("id", "mapping", "index", "mapcount", "data", "anon")

    def __init__(self, ident, mapping, index, anon, data=None):
        self.id = ident
        self.mapping = mapping        # anon_vma (anonymous) or address_space (page cache)
        self.index = index
        self.mapcount = 0             # page table entries that map it
        self.data = dict(data) if data else {}
        self.anon = anon

    @property
    def label(self) -> str:
        return f"folio#{self.id}"

    def __repr__(self):
        kind = "anon" if self.anon else "file"
        return f"<folio#{self.id} {kind} {self.mapping!r}:{self.index:#x} mapped {self.mapcount}>"


def linear_page_index(vma, addr) -> int:
    """The page index of addr in the VMA's object (file page, or anon linear index).

    Mirrors linear_page_index() in include/linux/pagemap.h.
    """
    return vma.vm_pgoff + ((addr - vma.vm_start) >> PAGE_SHIFT)


def vma_tracks_pages(vma) -> bool:
    """Pages of PFN/IO (driver) mappings are not modelled; everything else is."""
    return not vma.vm_flags & VM_SPECIAL and not (
        vma.vm_file is not None and vma.vm_file.f_inode.kind == "device")


def filemap_get_folio(mapping, index, create=True):
    """The page-cache folio at index, allocated (zero-filled) if absent and `create`.

    Mirrors filemap_get_folio() / shmem_get_folio() (mm/filemap.c, mm/shmem.c)."""
    f = mapping.i_pages.get(index)
    if f is None and create:
        world = mapping.host.world
        f = folio(world.next_id("folio"), mapping, index, False)
        mapping.i_pages[index] = f
    return f


def new_anon_folio(vma, addr, data=None):
    """A fresh anonymous page for addr in vma, in the VMA's own anon_vma. (mm/memory.c)"""
    world = vma.world
    return folio(world.next_id("folio"), vma.anon_vma, linear_page_index(vma, addr), True, data)


def set_pte(mm, addr, f):
    """Map folio f at the page of addr (the entry must be empty). (mm/memory.c)"""
    mm.ptes[addr & PAGE_MASK] = f
    f.mapcount += 1


def clear_pte(mm, addr):
    """Unmap the page at addr; a folio nobody maps any more is freed. (mm/memory.c)"""
    f = mm.ptes.pop(addr & PAGE_MASK, None)
    if f is not None:
        f.mapcount -= 1
    return f


def _addresses(mm, start, end):
    """The mapped page addresses in [start, end), whichever of the range or the table is
    smaller, in ascending order."""
    ptes = mm.ptes
    npages = (end - start) >> PAGE_SHIFT
    if npages <= len(ptes):
        return [a for a in range(start, end, PAGE_SIZE) if a in ptes]
    return sorted(a for a in ptes if start <= a < end)


@kernel_function("mm/memory.c", "simplified", quiet=True)
def zap_page_range_single(vma, start, size):
    """Drop the page table entries of [start, start + size) in vma (munmap, MADV_DONTNEED,
    a MAP_FIXED replacement): anonymous pages nobody else maps are gone, page-cache pages
    stay in the cache."""
    mm = vma.vm_mm
    end = min(start + size, vma.vm_end)
    for a in _addresses(mm, max(start, vma.vm_start), end):
        clear_pte(mm, a)


@kernel_function("mm/memory.c", "simplified", quiet=True)
def unmap_vmas(vmas):
    """Zap every page of every VMA in the list (unmap_region / exit_mmap)."""
    for vma in vmas:
        zap_page_range_single(vma, vma.vm_start, vma.vm_end - vma.vm_start)


def vma_needs_copy(dst_vma, src_vma) -> bool:
    """Must fork copy the page table entries now? Only where a later fault could not
    rebuild them: anonymous pages (an anon_vma) and PFN mappings. (mm/memory.c)"""
    from .vm_flags import VM_COPY_ON_FORK
    if src_vma.vm_flags & VM_COPY_ON_FORK:
        return True
    return src_vma.anon_vma is not None


@kernel_function("mm/memory.c", "simplified", quiet=True)
def copy_page_range(dst_vma, src_vma) -> int:
    """fork: the child maps the very pages the parent maps (write-protected in both, so the
    next write in either copies: copy-on-write)."""
    if not vma_needs_copy(dst_vma, src_vma) or not vma_tracks_pages(src_vma):
        return 0
    src_mm, dst_mm = src_vma.vm_mm, dst_vma.vm_mm
    for a in _addresses(src_mm, src_vma.vm_start, src_vma.vm_end):
        set_pte(dst_mm, a, src_mm.ptes[a])
    return 0


@kernel_function("mm/mremap.c", "simplified", quiet=True)
def move_ptes(mm, old_addr, new_addr, length):
    """Move the entries of [old_addr, old_addr + length) to new_addr: the pages keep their
    anon_vma and index, so the moved VMA must keep the pgoff that finds them."""
    moved = [(a, mm.ptes.pop(a)) for a in _addresses(mm, old_addr, old_addr + length)]
    for a, f in moved:
        mm.ptes[new_addr + (a - old_addr)] = f
    return length


def page_value(f, offset) -> int:
    """The byte at offset in folio f (0 where nothing was written)."""
    return 0 if f is None else f.data.get(offset, 0)


def truncate_inode_pages(mapping, newsize):
    """Drop the page-cache pages beyond the new end of the file and zero the tail of a
    partial last page (truncate_inode_pages_range / shmem_undo_range, mm/truncate.c)."""
    holebegin = (newsize + PAGE_SIZE - 1) >> PAGE_SHIFT
    for index in [i for i in mapping.i_pages if i >= holebegin]:
        del mapping.i_pages[index]
    partial = newsize & ~PAGE_MASK
    tail = mapping.i_pages.get(newsize >> PAGE_SHIFT) if partial else None
    if tail is not None:
        tail.data = {o: v for o, v in tail.data.items() if o < partial}


def zap_file_pages(vma, first, last, even_cows):
    """Unmap file pages [first, last] from vma (unmap_mapping_range's zap_page_range_single
    with a zap_details): page-cache pages always, private copies only with even_cows."""
    mm = vma.vm_mm
    lo = max(first, vma.vm_pgoff)
    hi = min(last, vma.vm_pgoff + vma.pages() - 1)
    if lo > hi:
        return
    start = vma.vm_start + ((lo - vma.vm_pgoff) << PAGE_SHIFT)
    end = vma.vm_start + ((hi - vma.vm_pgoff + 1) << PAGE_SHIFT)
    for a in _addresses(mm, start, end):
        if even_cows or not mm.ptes[a].anon:
            clear_pte(mm, a)
