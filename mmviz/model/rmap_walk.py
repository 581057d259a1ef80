"""Reverse mapping: which VMAs of which processes map a page (mm/rmap.c rmap_walk_anon,
rmap_walk_file), spec §5.4.

Reclaim, migration and truncation start from a page, not from a process. For an
anonymous page the walk takes the root rwsem of the page's anon_vma tree for read and
visits every VMA linked to that anon_vma whose pgoff range covers the page's index; for
a page-cache page it takes the file's i_mmap_rwsem for read and visits every VMA of the
file covering the index. Each visit computes the address the page would have there and
looks at the page table: the page may be mapped there, or not (never faulted, or
replaced by a private copy). No mmap_lock is taken.

`rmap_walk(world, pid, addr)` answers the question for the page a process maps (or would
map) at an address and returns an `RmapWalk`: plain frozen data, which the renderer
(mmviz/render/rmap_view.py) and the narration read.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InputError
from .file_ops import i_mmap_walk
from .instrument import kernel_function
from .locking import i_mmap_lock_read, i_mmap_unlock_read
from .memory import filemap_get_folio, folio, linear_page_index, vma_tracks_pages
from .rmap import anon_vma_lock_read, anon_vma_unlock_read
from .uapi import PAGE_MASK, PAGE_SHIFT


@dataclass(frozen=True)
class RmapVisit:
    """One VMA the walk visited: where the page would be in it, and whether it is."""

    pid: int
    vma: int                 # VMA id
    start: int
    end: int
    pgoff: int
    perms: str
    address: int
    mapped: bool             # the page table there maps this very page
    via: int | None          # anon walks: the anon_vma whose tree linked the VMA


@dataclass(frozen=True)
class AnonVmaNode:
    """One anon_vma of the page's fork tree, as the picture shows it."""

    id: int
    parent: int | None       # None for the root
    num_children: int
    num_active_vmas: int
    vmas: tuple              # (pid, vma id) of every VMA linked to it (its AVCs)


@dataclass(frozen=True)
class RmapWalk:
    """The answer to "who maps the page at (pid, addr)?"."""

    pid: int
    addr: int
    kind: str                # "anon", "file" or "none"
    folio: int | None        # folio id, if the page exists
    index: int               # the page index the walk looks up
    anon_vma: int | None     # anon: the page's anon_vma
    file: str | None         # file: the file label
    visits: tuple            # RmapVisit, in walk order
    tree: tuple = ()         # AnonVmaNode of the page's fork tree (anon walks)
    reason: str = ""         # why nothing was walked ("none")


class rmap_walk_control:
    """What a walker does at each VMA: here, record the visit (mm/rmap.c)."""

    __slots__ = ("folio", "visits", "via")

    def __init__(self, folio):
        self.folio = folio
        self.visits = []
        self.via = None


def vma_address(vma, pgoff) -> int:
    """Where page `pgoff` of the object lies in this VMA. (mm/internal.h)"""
    return vma.vm_start + ((pgoff - vma.vm_pgoff) << PAGE_SHIFT)


def _perms(vma) -> str:
    from .proc_maps import vma_perms
    return vma_perms(vma)


@kernel_function("mm/rmap.c", "simplified", quiet=True)
def rmap_one(folio, vma, address, rwc):
    """The walker's callback: does the page table at address map this folio?"""
    mapped = vma.vm_mm.ptes.get(address & PAGE_MASK) is folio
    visit = RmapVisit(vma.vm_mm.owner_pid, vma.id, vma.vm_start, vma.vm_end, vma.vm_pgoff,
                      _perms(vma), address, mapped, rwc.via)
    rwc.visits.append(visit)
    vma.world.emit("note", "rmap_walk_visit", pid=visit.pid, vma=vma.id, address=address,
                   mapped=mapped)
    return True


@kernel_function("mm/rmap.c", "simplified")
def rmap_walk_anon(folio, rwc):
    """Walk the AVC tree of the folio's anon_vma (root rwsem read-held)."""
    av = folio.mapping
    anon_vma_lock_read(av)
    try:
        pgoff = folio.index
        avcs = [c for c in av.rb_root
                if c.vma.vm_pgoff <= pgoff < c.vma.vm_pgoff + c.vma.pages()]
        avcs.sort(key=lambda c: (c.vma.vm_pgoff, c.id))
        rwc.via = av.id
        for avc in avcs:
            rmap_one(folio, avc.vma, vma_address(avc.vma, pgoff), rwc)
    finally:
        anon_vma_unlock_read(av)


@kernel_function("mm/rmap.c", "simplified")
def rmap_walk_file(folio, rwc):
    """Walk the file's i_mmap over the folio's index (i_mmap_rwsem read-held)."""
    mapping = folio.mapping
    i_mmap_lock_read(mapping)
    try:
        for vma in i_mmap_walk(mapping, folio.index, folio.index):
            rmap_one(folio, vma, vma_address(vma, folio.index), rwc)
    finally:
        i_mmap_unlock_read(mapping)


def rmap_walk(folio, rwc):
    """Anonymous folios walk their anon_vma, the others their file. (mm/rmap.c)"""
    if folio.anon:
        rmap_walk_anon(folio, rwc)
    else:
        rmap_walk_file(folio, rwc)


def _tree_of(av) -> tuple:
    world = av.world
    root = av.root
    nodes = []
    for other in sorted(world.anon_vmas.values(), key=lambda a: a.id):
        if other.root is not root:
            continue
        linked = tuple(sorted((c.vma.vm_mm.owner_pid, c.vma.id) for c in other.rb_root))
        nodes.append(AnonVmaNode(other.id, None if other.parent is other else other.parent.id,
                                 other.num_children, other.num_active_vmas, linked))
    return tuple(nodes)


def page_rmap_walk(world, addr) -> RmapWalk:
    """The rmap walk of the page the current process maps (or would map) at addr."""
    task = world.current
    mm = task.mm
    pid = mm.owner_pid
    page = addr & PAGE_MASK
    vma = mm.mm_mt.find(addr)
    if vma is None:
        raise InputError(f"process {pid} has nothing mapped at {addr:#x}")
    f = mm.ptes.get(page)
    index = linear_page_index(vma, page)
    if f is None:
        if vma.vm_file is None or not vma_tracks_pages(vma):
            world.emit("note", "rmap_no_page", pid=pid, addr=page)
            return RmapWalk(pid, page, "none", None, index, None, None, (),
                            reason="no page is mapped there yet (anonymous memory that was "
                                   "never written maps nothing)")
        f = filemap_get_folio(vma.vm_file.f_mapping, index, create=False)
        if f is None:       # not in the page cache: walk by index all the same
            f = folio(0, vma.vm_file.f_mapping, index, False)
    rwc = rmap_walk_control(f)
    world.emit("note", "rmap_walk_start", pid=pid, addr=page, anon=f.anon, folio=f.id,
               index=f.index, anon_vma=f.mapping.id if f.anon else None,
               file=None if f.anon else f.mapping.host.name)
    rmap_walk(f, rwc)
    world.emit("note", "rmap_walk_done", visited=len(rwc.visits),
               mapped=sum(v.mapped for v in rwc.visits))
    if f.anon:
        return RmapWalk(pid, page, "anon", f.id, f.index, f.mapping.id, None,
                        tuple(rwc.visits), _tree_of(f.mapping))
    return RmapWalk(pid, page, "file", f.id or None, f.index, None, f.mapping.host.name,
                    tuple(rwc.visits))
