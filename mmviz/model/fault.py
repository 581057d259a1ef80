"""Page faults: when a VMA gets its anon_vma, which page a write lands in, copy-on-write
after fork (mm/memory.c, mm/vma.c, mm/gup.c).

The model handles a fault in one step (no VM_FAULT_RETRY, no per-VMA read lock: the
fallback path under mmap_lock read is the one modelled). A private write needs an anon_vma
(anon_vma_prepare) and then an anonymous page of its own: a new zeroed one, a copy of
the page-cache page (private file mappings), or, for a page still shared after fork, a
copy (COW) unless this mapping is the only one left, when the page is reused and moves to
this VMA's anon_vma (wp_can_reuse_anon_folio). Spec §3.3-§3.4.
"""

from .errno import Errno
from .instrument import kernel_function
from .locking import mmap_read_lock, mmap_read_unlock
from .memory import (_addresses, filemap_get_folio, linear_page_index, new_anon_folio,
                     page_value, set_pte, clear_pte, vma_tracks_pages)
from .rmap import anon_vma_prepare, folio_move_anon_rmap
from .uapi import PAGE_MASK, PAGE_SHIFT, PAGE_SIZE
from .vm_flags import VM_ACCESS_FLAGS, VM_IGNORE_MERGE, VmFlags


def anon_vma_compatible(a, b) -> bool:
    """Adjacent VMAs that could share an anon_vma: equal but for access and sticky bits,
    contiguous pgoff. (mm/vma.c)"""
    return (a.vm_end == b.vm_start and a.vm_policy == b.vm_policy and a.vm_file is b.vm_file
            and not ((a.vm_flags ^ b.vm_flags) & ~(VM_ACCESS_FLAGS | VM_IGNORE_MERGE))
            and b.vm_pgoff == a.vm_pgoff + ((b.vm_start - a.vm_start) >> PAGE_SHIFT))


def reusable_anon_vma(old, a, b):
    """old's anon_vma, if a and b could share it and old's chain is singular (old is not a
    fork child, whose anon_vma would drag the parent's tree along). (mm/vma.c)"""
    if anon_vma_compatible(a, b) and old.anon_vma is not None and len(old.anon_vma_chain) == 1:
        return old.anon_vma
    return None


@kernel_function("mm/vma.c")
def find_mergeable_anon_vma(vma):
    """Reuse a neighbour's anon_vma (next first, then prev) so the two can merge later."""
    tree = vma.vm_mm.mm_mt
    nxt = tree.vma_next(vma)
    if nxt is not None:
        av = reusable_anon_vma(nxt, vma, nxt)
        if av is not None:
            return av
    prev = tree.vma_prev(vma)
    if prev is not None:
        return reusable_anon_vma(prev, prev, vma)
    return None


def _file_page(vma, addr):
    f = vma.vm_file
    return filemap_get_folio(f.f_mapping, linear_page_index(vma, addr))


def _write_byte(f, addr, value):
    if value is not None:
        f.data[addr & ~PAGE_MASK] = value & 0xFF


@kernel_function("mm/memory.c", "simplified", quiet=True)
def do_wp_page(vma, addr, old, value):
    """A write to a page this private VMA maps but may not write in place: reuse it if no
    one else maps it (it joins this VMA's anon_vma), else copy it (COW)."""
    mm = vma.vm_mm
    if old.anon and old.mapcount == 1:
        folio_move_anon_rmap(old, vma)
        _write_byte(old, addr, value)
        return 0
    new = new_anon_folio(vma, addr, old.data)
    clear_pte(mm, addr)
    set_pte(mm, addr, new)
    _write_byte(new, addr, value)
    vma.world.emit("note", "cow_copy", vma=vma.id, addr=addr & PAGE_MASK, old=old.id,
                   new=new.id, anon_vma=vma.anon_vma.id)
    return 0


@kernel_function("mm/memory.c", "simplified")
def handle_mm_fault(vma, addr, write: bool, value=None) -> int:
    """Return 0, or -EFAULT where the process would get SIGSEGV/SIGBUS. `value` is the
    byte a write stores (None: only fault the page in)."""
    flags = vma.vm_flags
    if write and not flags & VmFlags.VM_WRITE:
        return -Errno.EFAULT
    if not write and not flags & (VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_EXEC):
        return -Errno.EFAULT
    f = vma.vm_file
    mm = vma.vm_mm
    pte = mm.ptes.get(addr & PAGE_MASK)
    if f is not None and f.f_inode.kind != "device" and pte is None:
        page = linear_page_index(vma, addr)
        if page >= (f.f_inode.i_size + PAGE_SIZE - 1) >> PAGE_SHIFT:
            return -Errno.EFAULT    # SIGBUS: beyond end of file
    shared = flags & VmFlags.VM_SHARED
    if write and not shared:
        err = anon_vma_prepare(vma)   # a private write (or CoW of a file page) needs an anon_vma
        if err:
            return err
    if not vma_tracks_pages(vma):
        return 0
    if pte is not None:
        if write and not shared and (not pte.anon or pte.mapcount > 1 or pte.mapping is not vma.anon_vma):
            return do_wp_page(vma, addr, pte, value)
        if write:
            _write_byte(pte, addr, value)
        return 0
    if f is None:
        if write:                       # do_anonymous_page(); a read maps the zero page
            new = new_anon_folio(vma, addr)
            set_pte(mm, addr, new)
            _write_byte(new, addr, value)
        return 0
    cache = _file_page(vma, addr)
    if write and not shared:            # do_cow_fault(): a private copy of the file page
        new = new_anon_folio(vma, addr, cache.data)
        set_pte(mm, addr, new)
        _write_byte(new, addr, value)
        return 0
    set_pte(mm, addr, cache)            # do_read_fault() / do_shared_fault()
    if write:
        _write_byte(cache, addr, value)
    return 0


def read_value(vma, addr) -> int:
    """The byte a load at addr sees once the page is mapped (or would be, for a private
    page that maps the zero page or the page cache)."""
    pte = vma.vm_mm.ptes.get(addr & PAGE_MASK)
    if pte is not None:
        return page_value(pte, addr & ~PAGE_MASK)
    if vma.vm_file is None or not vma_tracks_pages(vma):
        return 0
    cache = vma.vm_file.f_mapping.i_pages.get(linear_page_index(vma, addr))
    return page_value(cache, addr & ~PAGE_MASK)


def load_byte(world, addr) -> int:
    """A read of the byte at addr: its value, or -EFAULT."""
    from .fault_path import do_user_addr_fault
    mm = world.mm
    ret = do_user_addr_fault(mm, addr, False)
    if ret:
        return ret
    mmap_read_lock(mm)
    try:
        return read_value(mm.mm_mt.find(addr), addr)
    finally:
        mmap_read_unlock(mm)


# A private file mapping populated for writing gets its own copy of every page (so a later
# write to the file through another mapping does not show through). Up to this many pages
# the copies are made; beyond, the model stays lazy, as its memory must not grow with a
# length argument: such a mapping then behaves as if populated only where it was used.
EAGER_COPY_PAGES = 4096


@kernel_function("mm/gup.c", "simplified", quiet=True)
def populate_vma_page_range(vma, start, end) -> int:
    """Fault in [start, end) of one VMA as GUP would: writes for private writable
    mappings (breaking COW: a page still shared after fork, or a file page, is copied),
    reads otherwise; a PROT_NONE VMA cannot be faulted (FOLL_FORCE is only used on
    accessible VMAs), nor a page past the end of a file. Returns the pages done, or
    -EFAULT if none could be. A page that would read as zeros either way is not
    materialised (the model's memory must not grow with the length)."""
    npages = (end - start) >> PAGE_SHIFT
    flags = vma.vm_flags
    if flags & VmFlags.VM_LOCKONFAULT:
        return npages
    if not flags & (VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_EXEC):
        return -Errno.EFAULT
    write = (flags & (VmFlags.VM_WRITE | VmFlags.VM_SHARED)) == VmFlags.VM_WRITE
    limit = npages
    f = vma.vm_file
    if f is not None and f.f_inode.kind != "device":
        eof = (f.f_inode.i_size + PAGE_SIZE - 1) >> PAGE_SHIFT
        limit = max(0, min(npages, eof - linear_page_index(vma, start)))
    if not limit:
        return -Errno.EFAULT
    if write:
        last = start + (limit << PAGE_SHIFT)
        err = handle_mm_fault(vma, start, True)
        if err:
            return err
        if vma_tracks_pages(vma):
            mm = vma.vm_mm
            if f is not None and limit <= EAGER_COPY_PAGES:
                addrs = range(start, last, PAGE_SIZE)
            else:
                addrs = _addresses(mm, start, last)
            for addr in addrs:
                handle_mm_fault(vma, addr, True)
    return limit


@kernel_function("mm/gup.c", "simplified")
def __mm_populate(mm, start, length, ignore_errors) -> int:
    """Fault in every page of [start, start + length) VMA by VMA (MAP_POPULATE, MAP_LOCKED,
    mlock); VM_IO/VM_PFNMAP VMAs are skipped. 0 or the first error (-EFAULT: a PROT_NONE
    VMA or a page past the end of its file; holes end the walk without an error)."""
    end = start + length
    nstart = start
    ret = 0
    mmap_read_lock(mm)
    try:
        while nstart < end:
            vma = mm.mm_mt.find_intersection(nstart, end)
            if vma is None:
                break
            nend = min(end, vma.vm_end)
            if vma.vm_flags & (VmFlags.VM_IO | VmFlags.VM_PFNMAP):
                nstart = nend
                continue
            nstart = max(nstart, vma.vm_start)
            done = populate_vma_page_range(vma, nstart, nend)
            if done < 0:
                if ignore_errors:
                    nstart = nend
                    continue
                ret = done
                break
            nstart += done << PAGE_SHIFT
    finally:
        mmap_read_unlock(mm)
    return ret


def mm_populate(mm, start, length):
    """MAP_POPULATE and MAP_LOCKED: populate, ignoring errors. (include/linux/mm.h)"""
    __mm_populate(mm, start, length, True)
    mm.world.emit("note", "populated")
