"""The anonymous rmap: anon_vmas, their chains, and how fork, split and unmap link them
(mm/rmap.c, include/linux/rmap.h).

Every faulted anonymous VMA has an `anon_vma` (where its new pages go) and a chain of
`anon_vma_chain` links, one per anon_vma it may hold pages of. fork() gives the child VMA
links to all of its parent's anon_vmas plus a new anon_vma of its own, so the rmap of a
page that parent and child still share finds both. The anon_vmas of one fork tree share
the root's lock. Spec §3.1-§3.5 (kernel-rmap-and-tasks.md); the behaviour is 6.18's.
"""

from __future__ import annotations

from .instrument import kernel_function
from .locking import down_read, down_write, up_read, up_write
from .mm_types import anon_vma, anon_vma_chain


@kernel_function("mm/rmap.c", quiet=True)
def anon_vma_alloc(world):
    """A new anon_vma: its own root and parent, refcount 1, no children, no VMAs."""
    av = anon_vma(world, world.next_id("anon_vma"))
    world.anon_vmas[av.id] = av
    return av


def anon_vma_free(av):
    """Free an anon_vma whose last reference is gone. (mm/rmap.c)"""
    av.freed = True
    av.world.anon_vmas.pop(av.id, None)
    av.world.emit("vma", "anon_vma_freed", anon_vma=av.id)


def get_anon_vma(av):
    """Take a reference. (include/linux/rmap.h)"""
    av.refcount += 1


def put_anon_vma(av):
    """Drop a reference; the last one frees it and drops its reference on the root.

    Mirrors put_anon_vma() (include/linux/rmap.h) and __put_anon_vma() (mm/rmap.c).
    """
    av.refcount -= 1
    if av.refcount:
        return
    root = av.root
    anon_vma_free(av)
    if root is not av:
        root.refcount -= 1
        if not root.refcount:
            anon_vma_free(root)


def anon_vma_lock_write(av):
    """Every anon_vma of a fork tree is locked through its root. (include/linux/rmap.h)"""
    down_write(av.root.rwsem)


def anon_vma_unlock_write(av):
    """Release the root's rwsem. (include/linux/rmap.h)"""
    up_write(av.root.rwsem)


def anon_vma_lock_read(av):
    """Take the root's rwsem for read, as rmap walkers do. (include/linux/rmap.h)"""
    down_read(av.root.rwsem)


def anon_vma_unlock_read(av):
    """Release the read hold on the root's rwsem. (include/linux/rmap.h)"""
    up_read(av.root.rwsem)


def anon_vma_chain_link(vma, avc, av):
    """Link vma to av: at the head of the VMA's chain and into av's tree. (mm/rmap.c)"""
    avc.vma = vma
    avc.anon_vma = av
    vma.anon_vma_chain = [avc] + vma.anon_vma_chain
    av.rb_root[avc] = None


def anon_vma_chain_alloc(world, vma, av):
    """A new, unlinked anon_vma_chain. (mm/rmap.c)"""
    return anon_vma_chain(world.next_id("avc"), vma, av)


@kernel_function("mm/rmap.c", "simplified")
def __anon_vma_prepare(vma) -> int:
    """Give a VMA its first anon_vma: a neighbour's if find_mergeable_anon_vma() offers
    one (so the two can merge later), else a new root. Allocation never fails here."""
    from .fault import find_mergeable_anon_vma
    world = vma.world
    av = find_mergeable_anon_vma(vma)
    reused = av is not None
    if av is None:
        av = anon_vma_alloc(world)
        av.num_children += 1          # a new root is its own parent
    anon_vma_lock_write(av)
    if vma.anon_vma is None:
        vma.anon_vma = av
        anon_vma_chain_link(vma, anon_vma_chain_alloc(world, vma, av), av)
        av.num_active_vmas += 1
    anon_vma_unlock_write(av)
    world.emit("vma", "anon_vma_prepared", vma=vma.id, anon_vma=av.id, reused=reused)
    return 0


def anon_vma_prepare(vma) -> int:
    """0 at once if the VMA already has an anon_vma. (include/linux/rmap.h)"""
    if vma.anon_vma is not None:
        return 0
    return __anon_vma_prepare(vma)


@kernel_function("mm/rmap.c")
def anon_vma_clone(dst, src) -> int:
    """Link dst to every anon_vma of src's chain (oldest first, so the chains end up in the
    same order). A fork child (dst.anon_vma cleared by the caller) may reuse one of them:
    the first, in 6.18's oldest-first scan, with no VMAs and fewer than two children (a
    root never qualifies: it counts itself). dst's own anon_vma gains an active VMA."""
    world = dst.world
    root = None
    reused = None
    for pavc in reversed(src.anon_vma_chain):
        av = pavc.anon_vma
        if root is None:
            root = av.root
            anon_vma_lock_write(av)
        anon_vma_chain_link(dst, anon_vma_chain_alloc(world, dst, av), av)
        if (dst.anon_vma is None and src.anon_vma is not None and av.num_children < 2
                and av.num_active_vmas == 0):
            dst.anon_vma = reused = av
    if dst.anon_vma is not None:
        dst.anon_vma.num_active_vmas += 1
    if root is not None:
        up_write(root.rwsem)
    if src.anon_vma_chain:
        world.emit("vma", "anon_vma_cloned", vma=dst.id, src=src.id,
                   chain=[c.anon_vma.id for c in dst.anon_vma_chain],
                   reused=None if reused is None else reused.id)
    return 0


@kernel_function("mm/rmap.c")
def anon_vma_fork(vma, pvma) -> int:
    """The child VMA of a fork: linked to the parent's anon_vmas (so rmap still finds the
    pages both share) and given an anon_vma of its own (reused or new) for its COWs."""
    world = vma.world
    if pvma.anon_vma is None:
        return 0
    vma.anon_vma = None
    err = anon_vma_clone(vma, pvma)
    if err:
        return err
    if vma.anon_vma is not None:
        world.emit("vma", "anon_vma_reused", vma=vma.id, anon_vma=vma.anon_vma.id)
        return 0
    av = anon_vma_alloc(world)
    av.root = pvma.anon_vma.root
    av.parent = pvma.anon_vma
    get_anon_vma(av.root)
    vma.anon_vma = av
    av.num_active_vmas += 1
    anon_vma_lock_write(av)
    anon_vma_chain_link(vma, anon_vma_chain_alloc(world, vma, av), av)
    av.parent.num_children += 1
    anon_vma_unlock_write(av)
    world.emit("vma", "anon_vma_forked", vma=vma.id, anon_vma=av.id, parent=av.parent.id,
               root=av.root.id)
    return 0


@kernel_function("mm/rmap.c")
def unlink_anon_vmas(vma):
    """Drop the VMA's links, newest first; an anon_vma left with no links stops counting
    as its parent's child and loses its own reference (the root goes last)."""
    chain = vma.anon_vma_chain
    if not chain and vma.anon_vma is None:
        return
    root = None
    empty = []
    for avc in chain:
        av = avc.anon_vma
        if root is None:
            root = av.root
            anon_vma_lock_write(av)
        av.rb_root.pop(avc, None)
        if not av.rb_root:
            av.parent.num_children -= 1
            empty.append(av)
    if vma.anon_vma is not None:
        vma.anon_vma.num_active_vmas -= 1
        vma.anon_vma = None
    if root is not None:
        up_write(root.rwsem)
    vma.anon_vma_chain = []
    vma.world.emit("vma", "anon_vmas_unlinked", vma=vma.id, freed=[a.id for a in empty])
    for av in empty:
        put_anon_vma(av)


def folio_move_anon_rmap(folio, vma):
    """A page only this VMA maps now belongs to the VMA's own anon_vma. (mm/rmap.c)"""
    folio.mapping = vma.anon_vma
