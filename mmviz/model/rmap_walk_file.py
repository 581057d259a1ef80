"""Walkers of a file's rmap: truncation and reclaim (mm/truncate.c, mm/memory.c, mm/rmap.c).

They find the mappings of a file's pages through `i_mmap` under `i_mmap_rwsem` — no
mmap_lock and no per-VMA lock — so a VMA is visible to them from the moment `vma_link_file`
puts it in `i_mmap` (spec kernel-rmap-and-tasks §5.4). That is why an mmap_prepare file
whose action or hooks finish setting a VMA up after the link hides it with
`hide_from_rmap_until_complete` (§5.5). A walker that reaches a VMA whose mmap has not
finished setting it up reports it: what it would read there (vm_private_data, the page
tables) is not there yet.
"""

from .file_ops import i_mmap_walk
from .instrument import call_hook, kernel_function
from .locking import i_mmap_lock_read, i_mmap_trylock_read, i_mmap_unlock_read, vma_lock_name
from .memory import truncate_inode_pages, vma_tracks_pages, zap_file_pages
from .uapi import PAGE_SHIFT


def _visit(vma):
    """An rmap walker reaches vma: it must be fully set up (spec §5.7)."""
    world = vma.world
    if vma.setup_pending:
        world.report_violation("half-built", vma_lock_name(vma), vma=vma.id)
    else:
        world.emit("note", "rmap_visit", vma=vma.id)


@kernel_function("mm/memory.c", "simplified")
def unmap_mapping_range(mapping, holebegin, holelen, even_cows):
    """Zap every mapping of the file's pages from byte `holebegin` (to the end when holelen is
    0) under i_mmap_rwsem for read; `even_cows` also drops private copies-on-write."""
    first = holebegin >> PAGE_SHIFT
    last = (1 << 64) - 1 if not holelen else (holebegin + holelen - 1) >> PAGE_SHIFT
    i_mmap_lock_read(mapping)
    for vma in i_mmap_walk(mapping, first, last):
        _visit(vma)
        vma.world.emit("vma", "zap_range", vma=vma.id, even_cows=bool(even_cows))
        if vma_tracks_pages(vma):
            zap_file_pages(vma, first, last, even_cows)
    i_mmap_unlock_read(mapping)


@kernel_function("mm/truncate.c", "simplified")
def truncate_pagecache(inode, newsize):
    """Unmap the pages beyond the new end twice, around dropping them from the page cache."""
    holebegin = (newsize + (1 << PAGE_SHIFT) - 1) >> PAGE_SHIFT << PAGE_SHIFT
    unmap_mapping_range(inode.i_mapping, holebegin, 0, 1)
    inode.world.emit("note", "truncate_pages", size=newsize)
    truncate_inode_pages(inode.i_mapping, newsize)
    unmap_mapping_range(inode.i_mapping, holebegin, 0, 1)


@kernel_function("fs/hugetlbfs/inode.c", "simplified")
def hugetlb_vmdelete_list(mapping, first, last):
    """Unmap a hugetlbfs file's pages from every VMA, each under its per-VMA lock.

    The lock is only tried (the walk holds i_mmap_rwsem, which comes after it in the lock
    order); a VMA whose vm_private_data holds no lock yet is skipped, as the Sept 2025 fix
    "hugetlbfs: skip VMAs without shareable locks in hugetlb_vmdelete_list" does — before it,
    the trylock reported success on such a VMA and huge_pmd_unshare() asserted.
    """
    from .drivers import hugetlb_vma_lock
    from .locking import down_write_trylock, up_write
    for vma in i_mmap_walk(mapping, first, last):
        _visit(vma)
        lock = vma.vm_private_data
        if not isinstance(lock, hugetlb_vma_lock):
            vma.world.emit("note", "hugetlb_skip_no_lock", vma=vma.id)
            continue
        if not down_write_trylock(lock.rw_sema):
            continue
        vma.world.emit("vma", "zap_range", vma=vma.id, even_cows=False)
        up_write(lock.rw_sema)


@kernel_function("fs/hugetlbfs/inode.c", "simplified")
def hugetlb_vmtruncate(inode, offset):
    """hugetlbfs truncation: i_mmap_rwsem for *write*, then unmap past the new end."""
    from .locking import i_mmap_lock_write, i_mmap_unlock_write
    from .drivers import HPAGE_SHIFT
    mapping = inode.i_mapping
    first = (offset + (1 << HPAGE_SHIFT) - 1) >> HPAGE_SHIFT << (HPAGE_SHIFT - PAGE_SHIFT)
    i_mmap_lock_write(mapping)
    hugetlb_vmdelete_list(mapping, first, (1 << 64) - 1)
    i_mmap_unlock_write(mapping)
    inode.world.emit("note", "truncate_pages", size=offset)


@kernel_function("fs/open.c", "simplified")
def do_truncate(f, size) -> int:
    """Set the file's size; shrinking unmaps the pages past the new end from every mapping
    (hugetlbfs through its own walker)."""
    inode = f.f_inode
    old = inode.i_size
    inode.i_size = size
    if size < old:
        if inode.kind == "hugetlbfs":
            hugetlb_vmtruncate(inode, size)
        else:
            truncate_pagecache(inode, size)
    elif size == old and inode.kind in ("memfd", "shmem-zero"):
        # shmem_setattr() truncates the page cache from the size even when it does not
        # change: the tail of a partial last page is zeroed.
        truncate_inode_pages(inode.i_mapping, size)
    return 0


@kernel_function("mm/rmap.c", "simplified")
def folio_referenced(f, pgoff) -> int:
    """Reclaim's question for one page cache folio: how many mappings referenced it lately?
    The walk only tries the rmap lock (rmap_walk_file with try_lock): -1 on contention."""
    mapping = f.f_mapping
    if not i_mmap_trylock_read(mapping):
        return -1
    n = 0
    for vma in i_mmap_walk(mapping, pgoff, pgoff):
        _visit(vma)
        n += 1
    i_mmap_unlock_read(mapping)
    return n


@kernel_function("mm/rmap.c", "simplified")
def rmap_walk_file(f, pgoff, rmap_one) -> int:
    """Visit every mapping of file page `pgoff` under i_mmap_rwsem for read, calling
    `rmap_one(vma)` on each (try_to_unmap, migration, folio_referenced all walk like this);
    returns how many VMAs it visited."""
    mapping = f.f_mapping
    i_mmap_lock_read(mapping)
    n = 0
    for vma in i_mmap_walk(mapping, pgoff, pgoff):
        _visit(vma)
        call_hook(vma.world, "rmap_one", rmap_one, vma)
        n += 1
    i_mmap_unlock_read(mapping)
    return n
