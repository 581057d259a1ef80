"""Spec §7.2 items 2 and 3 through the public face: World.mmap with MAP_FIXED, anonymous RW.

The kernel's test_mmap_region_basic and test_mmap_region_fill_hole_* call __mmap_region
directly; here the same layouts are reached with mmap(2) as a program would, and
checked at the /proc/PID/maps level (exact text) and on the internal vm_pgoff, which
maps does not show for anonymous VMAs.  The same calls, shifted into the scratch window,
are also replayed on the running kernel, which must draw the same picture.
"""

import sys

import pytest

import mmviz
from mmviz import MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_EXEC, PROT_READ, PROT_WRITE
from vma_harness import check_layout

RW = PROT_READ | PROT_WRITE
ANON_FIXED = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED
P = mmviz.PAGE_SIZE

BASIC_CALLS = [(0x300000, RW), (0x250000, RW), (0x303000, RW), (0x24D000, RW)]
FILL_LOW = 0x300000


def anon_line(start, end, perms="rw-p"):
    return f"{start:08x}-{end:08x} {perms} 00000000 00:00 0 "


@pytest.fixture
def world():
    w = mmviz.World()
    yield w
    w.validate()


def test_mmap_region_basic_via_mmap(world):
    """Four anonymous RW mappings of 3 pages merge pairwise (test_mmap_region_basic).

    (1) 0x300000: A.  (2) 0x250000: B.  (3) 0x303000 merges left: A grows up.
    (4) 0x24d000 merges right: B grows down (vm_start and vm_pgoff decrease).

     cdef0123  (from 0x24c000)      f0123456  (from 0x2ff000)
    |.BBBBBB.|                    |.AAAAAA.|
    """
    ids, starts = [], []
    for addr, prot in BASIC_CALLS:
        assert world.mmap(addr, 0x3000, prot, ANON_FIXED) == addr
        world.validate()
        ids.append([v.id for v in world.vmas()])
        starts.append([(v.vm_start, v.vm_end, v.vm_pgoff) for v in world.vmas()])
    # (1) and (2) create VMAs; (3) and (4) create none.
    assert [len(i) for i in ids] == [1, 2, 2, 2]
    a_id, b_id = ids[0][0], ids[1][0]
    assert ids[2] == [b_id, a_id], "the third call merged into A (no new VMA)"
    assert ids[3] == [b_id, a_id], "the fourth call merged into B (no new VMA)"
    assert starts[2] == [(0x250000, 0x253000, 0x250), (0x300000, 0x306000, 0x300)]
    assert starts[3] == [(0x24D000, 0x253000, 0x24D), (0x300000, 0x306000, 0x300)]
    assert world.proc_maps() == (anon_line(0x24D000, 0x253000) + "\n"
                                 + anon_line(0x300000, 0x306000) + "\n")
    assert world.mm.map_count == 2
    a, b = world.mm.mm_mt.find(0x300000), world.mm.mm_mt.find(0x24D000)
    names = {a: "A", b: "B"}
    check_layout(world, 0x24C000, 0x254000, names, """
         cdef0123
        |.BBBBBB.|
        B [0x24d000,0x253000) pg=0x24d rw-p SOFTDIRTY|ACCOUNT
        """, "after, low end")
    check_layout(world, 0x2FF000, 0x307000, names, """
         f0123456
        |.AAAAAA.|
        A [0x300000,0x306000) pg=0x300 rw-p SOFTDIRTY|ACCOUNT
        """, "after, high end")


def _fill_hole(world, middle_prot):
    assert world.mmap(0x300000, 0x3000, RW, ANON_FIXED) == 0x300000
    assert world.mmap(0x306000, 0x3000, RW, ANON_FIXED) == 0x306000
    a, c = world.vmas()
    check_layout(world, 0x300000, 0x309000, {a: "A", c: "C"}, """
         012345678
        |AAA...CCC|
        A [0x300000,0x303000) pg=0x300 rw-p SOFTDIRTY|ACCOUNT
        C [0x306000,0x309000) pg=0x306 rw-p SOFTDIRTY|ACCOUNT
        """, "before")
    assert world.mmap(0x303000, 0x3000, middle_prot, ANON_FIXED) == 0x303000
    return a, c


def test_mmap_region_fill_hole_merge_via_mmap(world):
    """Filling the gap between two compatible VMAs merges all three.

     012345678          012345678
    |AAA...CCC|   ->   |AAAAAAAAA|
    """
    a, c = _fill_hole(world, RW)
    assert world.proc_maps() == anon_line(0x300000, 0x309000) + "\n"
    assert [(v.id, v.vm_pgoff) for v in world.vmas()] == [(a.id, 0x300)]
    assert world.mm.map_count == 1
    check_layout(world, 0x300000, 0x309000, {a: "A"}, """
         012345678
        |AAAAAAAAA|
        A [0x300000,0x309000) pg=0x300 rw-p SOFTDIRTY|ACCOUNT
        """, "after")


def test_mmap_region_fill_hole_flags_mismatch_via_mmap(world):
    """The same with PROT_EXEC on the middle mapping: three VMAs, only the middle one x.

     012345678          012345678
    |AAA...CCC|   ->   |AAABBBCCC|
    """
    a, c = _fill_hole(world, RW | PROT_EXEC)
    assert world.proc_maps() == "".join(line + "\n" for line in (
        anon_line(0x300000, 0x303000), anon_line(0x303000, 0x306000, "rwxp"),
        anon_line(0x306000, 0x309000)))
    assert [v.vm_pgoff for v in world.vmas()] == [0x300, 0x303, 0x306]
    assert world.mm.map_count == 3
    b = world.mm.mm_mt.find(0x303000)
    check_layout(world, 0x300000, 0x309000, {a: "A", b: "B", c: "C"}, """
         012345678
        |AAABBBCCC|
        A [0x300000,0x303000) pg=0x300 rw-p SOFTDIRTY|ACCOUNT
        B [0x303000,0x306000) pg=0x303 rwxp SOFTDIRTY|ACCOUNT
        C [0x306000,0x309000) pg=0x306 rw-p SOFTDIRTY|ACCOUNT
        """, "after")


# ------------------------------------------------------- the same calls on the real kernel

LOW = 0x24C000                    # the pictures' left edge; everything is shifted by base - LOW
SPAN_PAGES = (0x30A000 - LOW) // P


def _kernel_spans(win):
    return [((e["start"] - win.base) // P, (e["end"] - win.base) // P, e["perms"])
            for e in win.maps_entries()]


def _model_spans(world):
    out = []
    for line in world.proc_maps().splitlines():
        span, perms = line.split()[:2]
        start, end = (int(x, 16) for x in span.split("-"))
        out.append(((start - LOW) // P, (end - LOW) // P, perms))
    return out


@pytest.mark.kernel
@pytest.mark.skipif(sys.platform != "linux", reason="needs the running Linux kernel")
@pytest.mark.parametrize("case", ["basic", "fill-merge", "fill-exec"])
def test_same_layout_on_the_real_kernel(case):
    from oracle.kernel_window import KernelWindow
    calls = {
        "basic": BASIC_CALLS,
        "fill-merge": [(0x300000, RW), (0x306000, RW), (0x303000, RW)],
        "fill-exec": [(0x300000, RW), (0x306000, RW), (0x303000, RW | PROT_EXEC)],
    }[case]
    world = mmviz.World()
    with KernelWindow(pages=SPAN_PAGES, base=0x2000_0000_0000) as win:
        for addr, prot in calls:
            kaddr = win.base + (addr - LOW)
            assert win.mmap(kaddr, 0x3000, prot, ANON_FIXED) == kaddr
            assert world.mmap(addr, 0x3000, prot, ANON_FIXED) == addr
            assert _kernel_spans(win) == _model_spans(world)
    expected = {"basic": 2, "fill-merge": 1, "fill-exec": 3}[case]
    assert world.mm.map_count == expected
