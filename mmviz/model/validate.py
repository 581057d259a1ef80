"""validate_mm(): the invariants of the model, checked on a whole world (mm/vma.c
validate_mm, and the anon_vma/locked_vm rules of kernel-rmap-and-tasks.md §2.9, §3.5, §4.7).
"""

from .errors import ModelBug
from .memory import linear_page_index
from .uapi import PAGE_MASK, PAGE_SIZE
from .vm_flags import VmFlags


def validate_mm(world, in_flight: bool = False) -> None:
    """Raise ModelBug naming the first broken invariant.

    The layout of the current task's address space is checked as before; the rmap and
    accounting invariants are checked over every process of the world. in_flight relaxes
    the checks that only hold between operations (map_count, detached VMAs still in the
    tree, the rmap window between store and link, the anon_vma counters) so that a
    recorder can validate after every event.
    """
    mm = world.mm
    prev_end = 0
    count = 0
    for vma in mm.mm_mt:
        if vma.vm_start >= vma.vm_end:
            raise ModelBug(f"{vma!r} is empty or inverted")
        if vma.vm_start % PAGE_SIZE or vma.vm_end % PAGE_SIZE:
            raise ModelBug(f"{vma!r} is not page aligned")
        if vma.vm_start < prev_end:
            raise ModelBug(f"{vma!r} overlaps the VMA before it")
        prev_end = vma.vm_end
        count += 1
        if in_flight:
            continue
        if vma.vm_refcnt == 0:
            raise ModelBug(f"{vma!r} is in the tree but marked detached")
        f = vma.vm_file
        if f is not None and vma.id not in f.f_mapping.i_mmap:
            raise ModelBug(f"{vma!r} maps {f.label} but is not in its i_mmap")
        if vma.hidden:
            raise ModelBug(f"{vma!r} is still hidden from the rmap after the call")
    if in_flight:
        return
    if count != mm.map_count and not world.corruption:
        # With world.corruption set, the modelled kernel itself broke map_count (spec §6e).
        raise ModelBug(f"map_count is {mm.map_count} but the tree holds {count} VMAs")
    attached = {v.id for t in world.tasks for v in t.mm.mm_mt}
    for f in world.all_files():
        for vid in f.f_mapping.i_mmap:
            if vid not in attached:
                raise ModelBug(f"i_mmap of {f.label} holds vma#{vid}, which is not attached")
        if f.f_count < 0:
            raise ModelBug(f"{f.label} has a negative reference count")
    if not world.hung:
        for lock in world.held_locks:
            raise ModelBug(f"{lock.name} is still held between system calls")
        if mm.vma_write_locked or mm.mm_lock_seq % 2:
            raise ModelBug("a per-VMA write lock outlived mmap_lock")
    validate_anon_vmas(world)
    counts = {}
    for m in _mms(world):
        validate_flags_and_locked_vm(m)
        validate_pages(m)
        for f in m.ptes.values():
            counts[f] = counts.get(f, 0) + 1
    for f, n in counts.items():
        if f.mapcount != n:
            raise ModelBug(f"{f!r}: mapcount {f.mapcount} but {n} page table entries map it")


def _mms(world):
    seen = []
    for t in world.tasks:
        if t.mm not in seen:
            seen.append(t.mm)
    return seen


def validate_anon_vmas(world) -> None:
    """Spec §3.5: every faulted VMA is linked to its own anon_vma; each link is in both
    the VMA's chain and the anon_vma's tree; a chain holds one fork tree (one root); the
    counters num_active_vmas and num_children are what they claim; no live anon_vma has a
    freed parent or root."""
    active = {}
    for mm in _mms(world):
        for vma in mm.mm_mt:
            av = vma.anon_vma
            chain = vma.anon_vma_chain
            if av is not None:
                active[av] = active.get(av, 0) + 1
                if av.freed:
                    raise ModelBug(f"{vma.label} points to the freed {av!r}")
                if not any(c.anon_vma is av for c in chain):
                    raise ModelBug(f"{vma.label} has {av!r} but no anon_vma_chain link to it")
            elif chain:
                raise ModelBug(f"{vma.label} has anon_vma_chain links but no anon_vma")
            roots = set()
            for c in chain:
                if c.vma is not vma:
                    raise ModelBug(f"{c!r} is in the chain of {vma.label}")
                if c not in c.anon_vma.rb_root:
                    raise ModelBug(f"{c!r} is in {vma.label}'s chain but not in the tree of "
                                   f"{c.anon_vma!r}")
                if c.anon_vma.freed:
                    raise ModelBug(f"{vma.label} is linked to the freed {c.anon_vma!r}")
                roots.add(c.anon_vma.root)
            if len(roots) > 1:
                raise ModelBug(f"the chain of {vma.label} spans {len(roots)} fork trees")
    attached = {id(v) for mm in _mms(world) for v in mm.mm_mt}
    children = {}
    for av in world.anon_vmas.values():
        if av.freed:
            raise ModelBug(f"{av!r} is freed but still registered")
        for c in av.rb_root:
            if id(c.vma) not in attached or c not in c.vma.anon_vma_chain:
                raise ModelBug(f"the tree of {av!r} holds {c!r}, whose VMA is gone or "
                               "unlinked")
        if av.rb_root:
            children[av.parent] = children.get(av.parent, 0) + 1
    for av in world.anon_vmas.values():
        if not av.rb_root:
            continue
        if av.parent.freed or av.root.freed:
            raise ModelBug(f"{av!r} has a freed parent or root")
        if av.num_active_vmas != active.get(av, 0):
            raise ModelBug(f"{av!r}: num_active_vmas is {av.num_active_vmas} but "
                           f"{active.get(av, 0)} VMAs use it")
        if av.num_children != children.get(av, 0):
            raise ModelBug(f"{av!r}: num_children is {av.num_children} but "
                           f"{children.get(av, 0)} live anon_vmas have it as parent")


def validate_flags_and_locked_vm(mm) -> None:
    """Spec §4.7 and §2.9: VM_LOCKONFAULT implies VM_LOCKED; VM_WIPEONFORK only on private
    anonymous VMAs; locked_vm is the size of the VM_LOCKED VMAs plus the DONTUNMAP
    over-count the model records."""
    locked = 0
    for vma in mm.mm_mt:
        flags = vma.vm_flags
        if flags & VmFlags.VM_LOCKONFAULT and not flags & VmFlags.VM_LOCKED:
            raise ModelBug(f"{vma.label} has VM_LOCKONFAULT without VM_LOCKED")
        if flags & VmFlags.VM_WIPEONFORK and (vma.vm_file is not None
                                             or flags & VmFlags.VM_SHARED):
            raise ModelBug(f"{vma.label} has VM_WIPEONFORK but is not private anonymous")
        if flags & VmFlags.VM_LOCKED:
            locked += vma.pages()
    if mm.locked_vm != locked + mm.locked_vm_leaked:
        raise ModelBug(f"locked_vm of process {mm.owner_pid} is {mm.locked_vm} pages but its "
                       f"VM_LOCKED VMAs hold {locked} (+{mm.locked_vm_leaked} leaked by "
                       "DONTUNMAP)")


def validate_pages(mm) -> None:
    """Every mapped page lies in a VMA; an anonymous page is found by rmap_walk_anon from
    its anon_vma at the address it is mapped at (its index matches the VMA's pgoff, and
    the VMA is linked to that anon_vma); a page-cache page belongs to the VMA's file."""
    tree = mm.mm_mt
    for addr, f in mm.ptes.items():
        vma = tree.find(addr)
        if vma is None:
            raise ModelBug(f"process {mm.owner_pid} maps {f!r} at {addr:#x}, outside any VMA")
        if addr & ~PAGE_MASK:
            raise ModelBug(f"page table entry at unaligned {addr:#x}")
        index = linear_page_index(vma, addr)
        if f.index != index:
            raise ModelBug(f"{f!r} at {addr:#x} in {vma.label}: rmap would look for index "
                           f"{index:#x}")
        if f.anon:
            if not any(c.anon_vma is f.mapping for c in vma.anon_vma_chain):
                raise ModelBug(f"{f!r} at {addr:#x}: {vma.label} is not linked to its anon_vma")
        elif vma.vm_file is None or vma.vm_file.f_mapping is not f.mapping:
            raise ModelBug(f"{f!r} at {addr:#x} is a page of another file than {vma.label}'s")
        if f.mapcount <= 0:
            raise ModelBug(f"{f!r} is mapped at {addr:#x} but its mapcount is {f.mapcount}")


def check_commit_charge(world) -> None:
    """The commit charge equals the pages of every VM_ACCOUNT VMA of every process (spec
    §2.9; kept apart from validate_mm because spec §6j's MAP_FIXED failure breaks it)."""
    owned = sum(v.pages() for mm in _mms(world) for v in mm.mm_mt
                if v.vm_flags & VmFlags.VM_ACCOUNT)
    if world.vm_committed != owned + world.commit_leaked:
        raise ModelBug(f"{world.vm_committed} pages are charged but VM_ACCOUNT VMAs hold "
                       f"{owned} (+{world.commit_leaked} leaked by mremap)")
