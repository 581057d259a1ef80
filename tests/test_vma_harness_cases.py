"""The acceptance cases of spec §7.2 items 1–10, ported from the kernel's tools/testing/vma.

Each test builds the address space by hand (alloc_and_link_vma), calls the model's merge
functions at the vmg level with the mmap_lock held for write, and checks the exact VMAs,
pgoffs, map_count, merge state, per-VMA write locks and anon_vma propagation.  The
address space is drawn before and after (one character per page, as the kernel tests'
comments draw it); the pictures are literal strings drawn by hand from the spec and
checked against `ascii_layout`.
"""

import pytest

import mmviz
from mmviz.model.errno import Errno
from mmviz.model.mmap_region import __mmap_region as mmap_region_inner
from mmviz.model.vm_flags import VM_SPECIAL, VmFlags
from mmviz.model.vma_merge import (VMA_MERGE_ERROR_NOMEM, VMA_MERGE_NOMERGE,
                                   VMA_MERGE_SUCCESS, VMG_VMA_STATE, vma_expand,
                                   vma_iterator, vma_merge_existing_range,
                                   vma_merge_new_range)
from vma_harness import (VM_RW, alloc_and_link_vma, check_layout, close_ops, merge_new,
                         mmap_locked, try_merge_new_vma, vma_set_dummy_anon_vma,
                         vma_write_started, vmg_for_new_range)


@pytest.fixture
def world():
    w = mmviz.World()
    yield w
    w.validate()
    assert not w.held_locks
    assert not w.violations, w.violations


def spans(world):
    return [(v.vm_start, v.vm_end, v.vm_pgoff) for v in world.vmas()]


# ---------------------------------------------------------------- 1. simple merge


def test_simple_merge(world):
    """§7.2.1 (test_simple_merge): a new range between two compatible VMAs merges all three.

     012          012
    |A.B|   ->   |AAA|
    """
    a = alloc_and_link_vma(world, 0x0000, 0x1000, 0, VM_RW)
    b = alloc_and_link_vma(world, 0x2000, 0x3000, 2, VM_RW)
    names = {a: "A", b: "B"}
    check_layout(world, 0, 0x3000, names, """
         012
        |A.B|
        A [0x0,0x1000) pg=0x0 rw-p
        B [0x2000,0x3000) pg=0x2 rw-p
        """, "before")
    assert world.mm.map_count == 2
    with mmap_locked(world):
        vma, vmg = merge_new(world, 0x1000, 0x2000, 1, VM_RW)
        assert vma is a, "the left VMA is the target"
        assert vmg.state == VMA_MERGE_SUCCESS
        assert (vmg.start, vmg.end, vmg.pgoff) == (0, 0x3000, 0)
        assert vma_write_started(a) and vma_write_started(b)
    check_layout(world, 0, 0x3000, names, """
         012
        |AAA|
        A [0x0,0x3000) pg=0x0 rw-p
        """, "after")
    assert spans(world) == [(0, 0x3000, 0)]
    assert world.mm.map_count == 1
    assert b.vm_refcnt == 0, "the right VMA was freed"
    assert a.vm_flags == VM_RW
    # Dropping mmap_lock dropped every VMA write lock (spec §1.1).
    assert not vma_write_started(a)


# ---------------------------------------------------------------- 2. mmap_region basic


def test_mmap_region_basic(world):
    """§7.2.2 (test_mmap_region_basic): four anonymous RW __mmap_region calls merge pairwise.

    The third call merges left into A; the fourth merges right into B, which is expanded
    downward (its vm_start and vm_pgoff decrease).

     cdef0123  (0x24c000..)      f0123456  (0x2ff000..)
    |........|                 |........|        empty
    |.BBBBBB.|                 |.AAAAAA.|        after the four calls
    """
    mm = world.mm
    # (address, pgoff, map_count after, which VMA the call write-locks: "A", "B")
    calls = [(0x300000, 0x300, 1, "A"), (0x250000, 0x250, 2, "B"),
             (0x303000, 0x303, 2, "A"), (0x24D000, 0x24D, 2, "B")]
    vmas = {}
    for addr, pgoff, count, locked in calls:
        with mmap_locked(world):       # one mmap_lock section per call, as mmap(2) does
            assert mmap_region_inner(mm, None, addr, 0x3000, VM_RW, pgoff) == addr
            vma = mm.mm_mt.find(addr)
            vmas.setdefault(locked, vma)
            assert vma is vmas[locked], f"the call at {addr:#x} landed in {locked}"
            assert mm.map_count == count
            assert [n for n, v in sorted(vmas.items()) if vma_write_started(v)] == [locked]
            assert vma.anon_vma is None
    a, b = vmas["A"], vmas["B"]
    names = {a: "A", b: "B"}
    check_layout(world, 0x24C000, 0x254000, names, """
         cdef0123
        |.BBBBBB.|
        B [0x24d000,0x253000) pg=0x24d rw-p SOFTDIRTY|ACCOUNT
        """, "after (low end)")
    check_layout(world, 0x2FF000, 0x307000, names, """
         f0123456
        |.AAAAAA.|
        A [0x300000,0x306000) pg=0x300 rw-p SOFTDIRTY|ACCOUNT
        """, "after (high end)")
    assert spans(world) == [(0x24D000, 0x253000, 0x24D), (0x300000, 0x306000, 0x300)]
    assert mm.map_count == 2


# ---------------------------------------------------------------- 3. fill the hole

_RWX_MAY = VM_RW | VmFlags.VM_MAYEXEC


def _fill_hole(world, middle_flags, locked):
    mm = world.mm
    with mmap_locked(world):
        assert mmap_region_inner(mm, None, 0x300000, 0x3000, _RWX_MAY, 0x300) == 0x300000
        assert mmap_region_inner(mm, None, 0x306000, 0x3000, _RWX_MAY, 0x306) == 0x306000
    a, c = world.vmas()
    check_layout(world, 0x300000, 0x309000, {a: "A", c: "C"}, """
         012345678
        |AAA...CCC|
        A [0x300000,0x303000) pg=0x300 rw-p SOFTDIRTY|ACCOUNT
        C [0x306000,0x309000) pg=0x306 rw-p SOFTDIRTY|ACCOUNT
        """, "before")
    assert mm.map_count == 2
    with mmap_locked(world):
        assert mmap_region_inner(mm, None, 0x303000, 0x3000, middle_flags, 0x303) == 0x303000
        b = mm.mm_mt.find(0x303000)
        got = {"A": vma_write_started(a), "B": b not in (a, c) and vma_write_started(b),
               "C": vma_write_started(c)}
        assert got == locked, got
    return a, c


def test_mmap_region_fill_hole_merge(world):
    """§7.2.3 (test_mmap_region_fill_hole_merge): identical flags merge all three.

     012345678          012345678
    |AAA...CCC|   ->   |AAAAAAAAA|
    """
    # A is the target and C is deleted: both write-locked.
    a, c = _fill_hole(world, _RWX_MAY, {"A": True, "B": False, "C": True})
    check_layout(world, 0x300000, 0x309000, {a: "A", c: "C"}, """
         012345678
        |AAAAAAAAA|
        A [0x300000,0x309000) pg=0x300 rw-p SOFTDIRTY|ACCOUNT
        """, "after")
    assert spans(world) == [(0x300000, 0x309000, 0x300)]
    assert world.mm.map_count == 1
    assert c.vm_refcnt == 0


def test_mmap_region_fill_hole_flags_mismatch(world):
    """§7.2.3 (test_mmap_region_fill_hole_flags_mismatch): one differing flag (EXEC) keeps
    three VMAs.

     012345678          012345678
    |AAA...CCC|   ->   |AAABBBCCC|
    """
    # Only the new VMA B is write-locked; its neighbours are not touched.
    a, c = _fill_hole(world, _RWX_MAY | VmFlags.VM_EXEC, {"A": False, "B": True, "C": False})
    b = world.mm.mm_mt.find(0x303000)
    check_layout(world, 0x300000, 0x309000, {a: "A", b: "B", c: "C"}, """
         012345678
        |AAABBBCCC|
        A [0x300000,0x303000) pg=0x300 rw-p SOFTDIRTY|ACCOUNT
        B [0x303000,0x306000) pg=0x303 rwxp SOFTDIRTY|ACCOUNT
        C [0x306000,0x309000) pg=0x306 rw-p SOFTDIRTY|ACCOUNT
        """, "after")
    assert [bool(v.vm_flags & VmFlags.VM_EXEC) for v in world.vmas()] == [False, True, False]
    assert world.mm.map_count == 3


# ---------------------------------------------------------------- 4. special flags

_SPECIAL = [("IO", VmFlags.VM_IO), ("DONTEXPAND", VmFlags.VM_DONTEXPAND),
            ("PFNMAP", VmFlags.VM_PFNMAP), ("MIXEDMAP", VmFlags.VM_MIXEDMAP)]


def test_vm_special_is_exactly_four_flags():
    assert VM_SPECIAL == (VmFlags.VM_IO | VmFlags.VM_DONTEXPAND | VmFlags.VM_PFNMAP
                          | VmFlags.VM_MIXEDMAP)


@pytest.mark.parametrize("name,flag", _SPECIAL, ids=[n for n, _ in _SPECIAL])
def test_vma_merge_special_flags(world, name, flag):
    """§7.2.4 (test_vma_merge_special_flags): a VM_SPECIAL flag blocks the new-range merge
    (and, second half of the kernel test, the existing-range merge).

     0123          0123
    |AAA.|   ->   |AAA.|    new [0x3000,0x4000) pg 3: NULL, NOMERGE
    |AAAB|   ->   |AAAB|    B's flags set to A's: NULL, NOMERGE
    """
    flags = VM_RW | flag
    a = alloc_and_link_vma(world, 0, 0x3000, 0, flags)
    picture = f"""
         0123
        |AAA.|
        A [0x0,0x3000) pg=0x0 rw-p {name}
        """
    check_layout(world, 0, 0x4000, {a: "A"}, picture, "before")
    with mmap_locked(world):
        vma, vmg = merge_new(world, 0x3000, 0x4000, 3, flags)
        assert vma is None
        assert vmg.state == VMA_MERGE_NOMERGE
        assert not vma_write_started(a)
    check_layout(world, 0, 0x4000, {a: "A"}, picture, "after the new-range attempt")
    assert world.mm.map_count == 1

    b = alloc_and_link_vma(world, 0x3000, 0x4000, 3, VM_RW)
    with mmap_locked(world):
        vmg = VMG_VMA_STATE(vma_iterator(world.mm, 0x3000), a, b, 0x3000, 0x4000)
        vmg.vm_flags = flags
        assert vma_merge_existing_range(vmg) is None
        assert vmg.state == VMA_MERGE_NOMERGE
    check_layout(world, 0, 0x4000, {a: "A", b: "B"}, f"""
         0123
        |AAAB|
        A [0x0,0x3000) pg=0x0 rw-p {name}
        B [0x3000,0x4000) pg=0x3 rw-p
        """, "after the existing-range attempt")
    assert world.mm.map_count == 2


def test_vma_merge_special_flags_control(world):
    """Without the special flag the same new-range merge succeeds (so the test above can fail)."""
    a = alloc_and_link_vma(world, 0, 0x3000, 0, VM_RW)
    with mmap_locked(world):
        vma, vmg = merge_new(world, 0x3000, 0x4000, 3, VM_RW)
        assert vma is a and vmg.state == VMA_MERGE_SUCCESS
    check_layout(world, 0, 0x4000, {a: "A"}, """
         0123
        |AAAA|
        A [0x0,0x4000) pg=0x0 rw-p
        """)


# ---------------------------------------------------------------- 5. close on next


@pytest.mark.parametrize("next_has_close", [True, False], ids=["close", "control"])
def test_vma_merge_with_close_next(world, next_has_close):
    """§7.2.5 (test_vma_merge_with_close, first case): next has vm_ops->close, so the
    both-sides merge degrades to extending prev only; N is left intact.

     012345678          012345678
    |PPP..NNNN|   ->   |PPPPPNNNN|        (control, N without close: |PPPPPPPPP|)
    """
    p = alloc_and_link_vma(world, 0, 0x3000, 0, VM_RW)
    n = alloc_and_link_vma(world, 0x5000, 0x9000, 5, VM_RW)
    if next_has_close:
        n.vm_ops = close_ops()
    names = {p: "P", n: "N"}
    close = " close" if next_has_close else ""
    check_layout(world, 0, 0x9000, names, f"""
         012345678
        |PPP..NNNN|
        P [0x0,0x3000) pg=0x0 rw-p
        N [0x5000,0x9000) pg=0x5 rw-p{close}
        """, "before")
    with mmap_locked(world):
        vma, vmg = merge_new(world, 0x3000, 0x5000, 3, VM_RW)
        assert vma is p
        assert vmg.state == VMA_MERGE_SUCCESS
        assert vma_write_started(p)
        # N is only write-locked when it is going to be deleted.
        assert vma_write_started(n) == (not next_has_close)
    if next_has_close:
        check_layout(world, 0, 0x9000, names, """
             012345678
            |PPPPPNNNN|
            P [0x0,0x5000) pg=0x0 rw-p
            N [0x5000,0x9000) pg=0x5 rw-p close
            """, "after")
        assert spans(world) == [(0, 0x5000, 0), (0x5000, 0x9000, 5)]
        assert world.mm.map_count == 2
        assert n.vm_refcnt == 1
    else:
        check_layout(world, 0, 0x9000, names, """
             012345678
            |PPPPPPPPP|
            P [0x0,0x9000) pg=0x0 rw-p
            """, "after")
        assert world.mm.map_count == 1


# ---------------------------------------------------------------- 6. close on both


def test_vma_merge_new_with_close(world):
    """§7.2.6 (test_vma_merge_new_with_close): prev and next both have close; the new range
    extends prev (which keeps its ops) and next is left alone.

     0123456          0123456
    |PP...NN|   ->   |PPPPPNN|
    """
    ops = close_ops()
    p = alloc_and_link_vma(world, 0, 0x2000, 0, VM_RW)
    n = alloc_and_link_vma(world, 0x5000, 0x7000, 5, VM_RW)
    p.vm_ops = n.vm_ops = ops
    names = {p: "P", n: "N"}
    check_layout(world, 0, 0x7000, names, """
         0123456
        |PP...NN|
        P [0x0,0x2000) pg=0x0 rw-p close
        N [0x5000,0x7000) pg=0x5 rw-p close
        """, "before")
    with mmap_locked(world):
        vma, vmg = merge_new(world, 0x2000, 0x5000, 2, VM_RW)
        assert vma is p
        assert vmg.state == VMA_MERGE_SUCCESS
        assert vma_write_started(p)
        assert not vma_write_started(n)
    check_layout(world, 0, 0x7000, names, """
         0123456
        |PPPPPNN|
        P [0x0,0x5000) pg=0x0 rw-p close
        N [0x5000,0x7000) pg=0x5 rw-p close
        """, "after")
    assert p.vm_ops is ops and n.vm_ops is ops
    assert world.mm.map_count == 2


# ---------------------------------------------------------------- 7. anon_vmas


@pytest.mark.parametrize("same_anon_vma", [False, True], ids=["different", "control-same"])
def test_anon_vma_non_mergeable_new(world, same_anon_vma):
    """§7.2.7 (test_anon_vma_non_mergeable, new-range half): prev and next carry different
    anon_vmas, so the both-sides merge degrades to a prev merge; N is not even
    write-locked.  (Control: with the same anon_vma all three merge.)

     012345678          012345678
    |PPP....NN|   ->   |PPPPPPPNN|
    """
    av_a = world.new_anon_vma()
    av_b = av_a if same_anon_vma else world.new_anon_vma()
    p = alloc_and_link_vma(world, 0, 0x3000, 0, VM_RW)
    n = alloc_and_link_vma(world, 0x7000, 0x9000, 7, VM_RW)
    vma_set_dummy_anon_vma(p, av_a)
    vma_set_dummy_anon_vma(n, av_b)
    names = {p: "P", n: "N", av_a: "A", av_b: "A" if same_anon_vma else "B"}
    nb = names[av_b]
    check_layout(world, 0, 0x9000, names, f"""
         012345678
        |PPP....NN|
        P [0x0,0x3000) pg=0x0 rw-p av=A
        N [0x7000,0x9000) pg=0x7 rw-p av={nb}
        """, "before")
    with mmap_locked(world):
        vma, vmg = merge_new(world, 0x3000, 0x7000, 3, VM_RW)
        assert vma is p
        assert vmg.state == VMA_MERGE_SUCCESS
        assert vma_write_started(p)
        assert vma_write_started(n) == same_anon_vma
    if not same_anon_vma:
        check_layout(world, 0, 0x9000, names, """
             012345678
            |PPPPPPPNN|
            P [0x0,0x7000) pg=0x0 rw-p av=A
            N [0x7000,0x9000) pg=0x7 rw-p av=B
            """, "after")
        assert spans(world) == [(0, 0x7000, 0), (0x7000, 0x9000, 7)]
        assert n.anon_vma is av_b and n.vm_refcnt == 1
    else:
        check_layout(world, 0, 0x9000, names, """
             012345678
            |PPPPPPPPP|
            P [0x0,0x9000) pg=0x0 rw-p av=A
            """, "after")
    assert p.anon_vma is av_a


# ---------------------------------------------------------------- 8. merge_new sequence


def test_merge_new(world):
    """§7.2.8 (test_merge_new, the non-sticky run): a sequence of new-range merges.

     0123456789ab
    |AA.B.......C|  initial
    |AA.B...DD..C|  (i)   new [7,9): no merge, D created
    |AAAA...DD..C|  (ii)  new [2,3): A absorbs B (and B's anon_vma X)
    |AAAAA..DD..C|  (iii) new [4,5): A grows
    |AAAAA.DDD..C|  (iv)  new [6,7): D grows down
    |AAAAAAAAA..C|  (v)   new [5,6): A absorbs D
    |AAAAAAAAA.CC|  (vi)  new [a,b): C grows down
    |AAAAAAAAAAAA|  (vii) new [9,a): A absorbs C
    """
    mm = world.mm
    x = world.new_anon_vma()
    a = alloc_and_link_vma(world, 0x0000, 0x2000, 0, VM_RW)
    b = alloc_and_link_vma(world, 0x3000, 0x4000, 3, VM_RW)
    c = alloc_and_link_vma(world, 0xB000, 0xC000, 0xB, VM_RW)
    names = {a: "A", b: "B", c: "C", x: "X"}
    check_layout(world, 0, 0xC000, names, """
         0123456789ab
        |AA.B.......C|
        A [0x0,0x2000) pg=0x0 rw-p
        B [0x3000,0x4000) pg=0x3 rw-p
        C [0xb000,0xc000) pg=0xb rw-p
        """, "initially")
    assert mm.map_count == 3

    # (i) nothing adjacent: a new VMA D.
    with mmap_locked(world):
        d, merged, vmg = try_merge_new_vma(world, 0x7000, 0x9000, 7, VM_RW)
        assert not merged and vmg.state == VMA_MERGE_NOMERGE
        assert not any(vma_write_started(v) for v in (a, b, c))
    names[d] = "D"
    check_layout(world, 0, 0xC000, names, """
         0123456789ab
        |AA.B...DD..C|
        A [0x0,0x2000) pg=0x0 rw-p
        B [0x3000,0x4000) pg=0x3 rw-p
        D [0x7000,0x9000) pg=0x7 rw-p
        C [0xb000,0xc000) pg=0xb rw-p
        """, "after (i)")
    assert mm.map_count == 4

    # (ii) B has anon_vma X; A has close, which does not matter as A is not deleted.
    vma_set_dummy_anon_vma(b, x)
    a.vm_ops = close_ops()
    with mmap_locked(world):
        vma, merged, vmg = try_merge_new_vma(world, 0x2000, 0x3000, 2, VM_RW)
        assert merged and vma is a and vmg.state == VMA_MERGE_SUCCESS
        assert vma_write_started(a) and vma_write_started(b)
        assert not vma_write_started(c) and not vma_write_started(d)
    check_layout(world, 0, 0xC000, names, """
         0123456789ab
        |AAAA...DD..C|
        A [0x0,0x4000) pg=0x0 rw-p av=X close
        D [0x7000,0x9000) pg=0x7 rw-p
        C [0xb000,0xc000) pg=0xb rw-p
        """, "after (ii)")
    assert a.anon_vma is x and x.was_cloned
    assert b.vm_refcnt == 0
    assert mm.map_count == 3

    # (iii) extend A.
    with mmap_locked(world):
        vma, merged, vmg = try_merge_new_vma(world, 0x4000, 0x5000, 4, VM_RW)
        assert merged and vma is a and vma_write_started(a)
        assert not vma_write_started(d)
    check_layout(world, 0, 0xC000, names, """
         0123456789ab
        |AAAAA..DD..C|
        A [0x0,0x5000) pg=0x0 rw-p av=X close
        D [0x7000,0x9000) pg=0x7 rw-p
        C [0xb000,0xc000) pg=0xb rw-p
        """, "after (iii)")
    assert mm.map_count == 3

    # (iv) D has X and close: a merge into the start of D (D is not deleted, only grows).
    vma_set_dummy_anon_vma(d, x)
    d.vm_ops = close_ops()
    with mmap_locked(world):
        vma, merged, vmg = try_merge_new_vma(world, 0x6000, 0x7000, 6, VM_RW)
        assert merged and vma is d and vmg.state == VMA_MERGE_SUCCESS
        assert vma_write_started(d) and not vma_write_started(a)
    check_layout(world, 0, 0xC000, names, """
         0123456789ab
        |AAAAA.DDD..C|
        A [0x0,0x5000) pg=0x0 rw-p av=X close
        D [0x6000,0x9000) pg=0x6 rw-p av=X close
        C [0xb000,0xc000) pg=0xb rw-p
        """, "after (iv)")
    assert mm.map_count == 3

    # (v) with D's close gone, the gap merges A, the new range and D.
    d.vm_ops = None
    with mmap_locked(world):
        vma, merged, vmg = try_merge_new_vma(world, 0x5000, 0x6000, 5, VM_RW)
        assert merged and vma is a and vmg.state == VMA_MERGE_SUCCESS
        assert vma_write_started(a) and vma_write_started(d)
    check_layout(world, 0, 0xC000, names, """
         0123456789ab
        |AAAAAAAAA..C|
        A [0x0,0x9000) pg=0x0 rw-p av=X close
        C [0xb000,0xc000) pg=0xb rw-p
        """, "after (v)")
    assert d.vm_refcnt == 0 and a.anon_vma is x
    assert mm.map_count == 2

    # (vi) C has X: a merge into the start of C.
    vma_set_dummy_anon_vma(c, x)
    with mmap_locked(world):
        vma, merged, vmg = try_merge_new_vma(world, 0xA000, 0xB000, 0xA, VM_RW)
        assert merged and vma is c and vma_write_started(c) and not vma_write_started(a)
    check_layout(world, 0, 0xC000, names, """
         0123456789ab
        |AAAAAAAAA.CC|
        A [0x0,0x9000) pg=0x0 rw-p av=X close
        C [0xa000,0xc000) pg=0xa rw-p av=X
        """, "after (vi)")
    assert mm.map_count == 2

    # (vii) the last gap joins everything into A.
    with mmap_locked(world):
        vma, merged, vmg = try_merge_new_vma(world, 0x9000, 0xA000, 9, VM_RW)
        assert merged and vma is a and vmg.state == VMA_MERGE_SUCCESS
        assert vma_write_started(a) and vma_write_started(c)
    check_layout(world, 0, 0xC000, names, """
         0123456789ab
        |AAAAAAAAAAAA|
        A [0x0,0xc000) pg=0x0 rw-p av=X close
        """, "after (vii)")
    assert spans(world) == [(0, 0xC000, 0)]
    assert c.vm_refcnt == 0 and a.anon_vma is x
    assert mm.map_count == 1


_STICKY = [0, VmFlags.VM_SOFTDIRTY, VmFlags.VM_MAYBE_GUARD]


@pytest.mark.parametrize("prev_s", _STICKY)
@pytest.mark.parametrize("new_s", _STICKY)
@pytest.mark.parametrize("next_s", _STICKY)
def test_merge_new_sticky_flags_union(world, prev_s, new_s, next_s):
    """test_merge_new's sticky runs: sticky bits never block a merge, and the merged VMA
    carries the union of the sticky bits of prev, the new range and next.

     012          012
    |A.B|   ->   |AAA|
    """
    def legend(bits):
        names = [n for n, b in (("SOFTDIRTY", VmFlags.VM_SOFTDIRTY),
                                ("MAYBE_GUARD", VmFlags.VM_MAYBE_GUARD)) if bits & b]
        return (" " + "|".join(names)) if names else ""
    a = alloc_and_link_vma(world, 0, 0x1000, 0, VM_RW | prev_s)
    b = alloc_and_link_vma(world, 0x2000, 0x3000, 2, VM_RW | next_s)
    check_layout(world, 0, 0x3000, {a: "A", b: "B"}, f"""
         012
        |A.B|
        A [0x0,0x1000) pg=0x0 rw-p{legend(prev_s)}
        B [0x2000,0x3000) pg=0x2 rw-p{legend(next_s)}
        """, "before")
    with mmap_locked(world):
        vma, vmg = merge_new(world, 0x1000, 0x2000, 1, VM_RW | new_s)
    assert vma is a and vmg.state == VMA_MERGE_SUCCESS
    check_layout(world, 0, 0x3000, {a: "A"}, f"""
         012
        |AAA|
        A [0x0,0x3000) pg=0x0 rw-p{legend(prev_s | new_s | next_s)}
        """, "after")
    assert a.vm_flags == VM_RW | prev_s | new_s | next_s


# ---------------------------------------------------------------- 9. expand only


@pytest.mark.parametrize("with_next", [False, True], ids=["as-kernel", "compatible-next"])
def test_expand_only_mode(world, with_next):
    """§7.2.9 (test_expand_only_mode): just_expand expands prev without walking back to the
    earlier VMA (and, extra check, without looking at a compatible next).

     0123456789          0123456789
    |AA.PP.....|   ->   |AA.PPPPPP.|      (with_next: N at 0x9000 stays separate)
    """
    a = alloc_and_link_vma(world, 0, 0x2000, 0, VM_RW)
    p = alloc_and_link_vma(world, 0x3000, 0x5000, 3, VM_RW)
    names = {a: "A", p: "P"}
    n = None
    if with_next:
        n = alloc_and_link_vma(world, 0x9000, 0xA000, 9, VM_RW)
        names[n] = "N"
    n_line = "\n        N [0x9000,0xa000) pg=0x9 rw-p" if with_next else ""
    n_char = "N" if with_next else "."
    check_layout(world, 0, 0xA000, names, f"""
         0123456789
        |AA.PP....{n_char}|
        A [0x0,0x2000) pg=0x0 rw-p
        P [0x3000,0x5000) pg=0x3 rw-p{n_line}
        """, "before")
    with mmap_locked(world):
        vmi = vma_iterator(world.mm, 0x3000)
        vmg = vmg_for_new_range(world, 0x5000, 0x9000, 5, VM_RW, vmi=vmi)
        vmg.prev = p
        vmg.next = n
        vmg.just_expand = True
        vma = vma_merge_new_range(vmg)
        assert vma is p
        assert vmg.state == VMA_MERGE_SUCCESS
        assert vma_write_started(p)
        assert not vma_write_started(a)
        assert n is None or not vma_write_started(n)
        assert vmi.index == 0x3000
    check_layout(world, 0, 0xA000, names, f"""
         0123456789
        |AA.PPPPPP{n_char}|
        A [0x0,0x2000) pg=0x0 rw-p
        P [0x3000,0x9000) pg=0x3 rw-p{n_line}
        """, "after")
    assert world.mm.map_count == (3 if with_next else 2)


# ---------------------------------------------------------------- 10. prealloc failure


def test_vmi_prealloc_fail_expand(world):
    """§7.2.10 (test_vmi_prealloc_fail, expand half): expanding P over V with the maple-tree
    preallocation failing returns -ENOMEM with state ERROR_NOMEM.  V's anon_vma was
    cloned onto P and the clone unlinked again; no range changes.

     01234          01234
    |PPPVV|   ->   |PPPVV|
    """
    x = world.new_anon_vma()
    p = alloc_and_link_vma(world, 0, 0x3000, 0, VM_RW)
    v = alloc_and_link_vma(world, 0x3000, 0x5000, 3, VM_RW)
    vma_set_dummy_anon_vma(v, x)
    names = {p: "P", v: "V", x: "X"}
    picture = """
         01234
        |PPPVV|
        P [0x0,0x3000) pg=0x0 rw-p
        V [0x3000,0x5000) pg=0x3 rw-p av=X
        """
    check_layout(world, 0, 0x5000, names, picture, "before")
    world.faults.arm("prealloc")
    with mmap_locked(world):
        vmg = vmg_for_new_range(world, 0, 0x5000, 0, VM_RW, vmi=vma_iterator(world.mm, 0))
        vmg.target = p
        vmg.next = v
        assert vma_expand(vmg) == -Errno.ENOMEM
        assert vmg.state == VMA_MERGE_ERROR_NOMEM
    assert x.was_cloned, "dup_anon_vma assigned V's anon_vma to P"
    assert x.was_unlinked, "and the failure path unlinked that clone"
    # The kernel's unlink_anon_vmas() also clears the pointer (the harness stub does not).
    assert p.anon_vma is None and v.anon_vma is x
    assert "prealloc" not in world.faults.armed()
    check_layout(world, 0, 0x5000, names, picture, "after")
    assert spans(world) == [(0, 0x3000, 0), (0x3000, 0x5000, 3)]
    assert world.mm.map_count == 2 and v.vm_refcnt == 1


def test_vmi_prealloc_fail_control(world):
    """Without the injected failure the same expand succeeds and keeps X on P."""
    x = world.new_anon_vma()
    p = alloc_and_link_vma(world, 0, 0x3000, 0, VM_RW)
    v = alloc_and_link_vma(world, 0x3000, 0x5000, 3, VM_RW)
    vma_set_dummy_anon_vma(v, x)
    with mmap_locked(world):
        vmg = vmg_for_new_range(world, 0, 0x5000, 0, VM_RW, vmi=vma_iterator(world.mm, 0))
        vmg.target = p
        vmg.next = v
        assert vma_expand(vmg) == 0
    assert p.anon_vma is x and x.was_cloned and not x.was_unlinked
    check_layout(world, 0, 0x5000, {p: "P", x: "X"}, """
         01234
        |PPPPP|
        P [0x0,0x5000) pg=0x0 rw-p av=X
        """)
