"""The name column of /proc/PID/maps, printed as the kernel prints it and read back exactly.

The kernel prints a path through seq_path(..., "\\n"): a newline becomes \\012 and nothing
else is escaped; an unlinked shmem inode (a memfd, shared /dev/zero) ends in " (deleted)".
`World.from_maps(w.proc_maps())` must print the same text again. On Linux the names are also
compared with what the running kernel prints for the same memfds.
"""

from __future__ import annotations

import sys

import pytest

import mmviz
from mmviz import MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE
from mmviz.model.drivers import DriverSpec
from mmviz.model.proc_maps import parse_maps

P = mmviz.PAGE_SIZE
RW = PROT_READ | PROT_WRITE
BASE = 0x1000_0000_0000
ODD = ["a\nb", "two\n\nlines\n", "x (deleted)", " lead", "trail ", "tab\tx", "cr\rx",
       "nel\x85x", "ls\u2028x", "ff\x0cx", "\x1cgroup", "back\\slash", "dev\\012ice",
       "mark<!--x", "\u00e9t\u00e9"]


def _world_with_odd_names():
    w = mmviz.World()
    addr = BASE
    names = {}

    def put(fd, flags=MAP_SHARED):
        nonlocal addr
        assert w.mmap(addr, P, RW, flags | MAP_FIXED, fd, 0) == addr
        addr += 2 * P

    for name in ODD:
        fd = w.memfd_create(name)
        assert w.ftruncate(fd, P) == 0
        names[addr] = f"/memfd:{name}"
        put(fd)
    names[addr] = "/dev/zero"
    put(-1, MAP_SHARED | MAP_ANONYMOUS)                       # shared anonymous: /dev/zero
    names[addr] = None
    put(-1, MAP_PRIVATE | MAP_ANONYMOUS)
    for name in ("cam\nera", "dev (deleted)"):
        names[addr] = f"/dev/{name}"
        put(w.open_driver(DriverSpec("pfn-remap", name=name)))
        names[addr] = f"/mnt/{name}"
        put(w.open_driver(DriverSpec("regular", name=name)))
    return w, names


def test_a_newline_in_a_name_prints_as_012_and_nothing_else_is_escaped():
    w, _ = _world_with_odd_names()
    text = w.proc_maps()
    lines = text.split("\n")[:-1]
    assert len(lines) == len(w.vmas())                        # one line per VMA, always
    assert lines[0].endswith(" /memfd:a\\012b (deleted)")
    assert lines[1].endswith(" /memfd:two\\012\\012lines\\012 (deleted)")
    assert lines[2].endswith(" /memfd:x (deleted) (deleted)")
    assert lines[6].endswith(" /memfd:cr\rx (deleted)")
    assert lines[11].endswith(" /memfd:back\\slash (deleted)")
    assert " /dev/zero (deleted)" in text and "/dev/cam\\012era" in text


def test_from_maps_round_trips_memfds_shared_anon_and_odd_names():
    w, names = _world_with_odd_names()
    text = w.proc_maps()
    loaded = mmviz.World.from_maps(text)
    assert loaded.proc_maps() == text
    assert mmviz.World.from_maps(loaded.proc_maps()).proc_maps() == text
    loaded.validate()
    for vma in loaded.vmas():
        want = names[vma.vm_start]
        got = vma.vm_file.f_inode.name if vma.vm_file is not None else None
        if want != "/memfd:dev\\012ice":     # a literal \012 prints like a newline: ambiguous
            assert got == want, (hex(vma.vm_start), got, want)
    kinds = {v.vm_file.f_inode.kind for v in loaded.vmas() if v.vm_file is not None}
    assert kinds == {"memfd", "shmem-zero", "file"}


def test_a_deleted_regular_file_and_a_memfd_lookalike_keep_their_names():
    text = ("10000000-10001000 r--p 00000000 08:01 12                                 "
            "/tmp/gone (deleted)\n"
            "10001000-10002000 r--p 00000000 08:01 13                                 "
            "/memfd:not-really\n"
            "10002000-10003000 rw-s 00000000 00:01 14                                 "
            "/dev/zero (deleted)\n")
    w = mmviz.World.from_maps(text)
    assert w.proc_maps() == text
    assert [v.vm_file.f_inode.kind for v in w.vmas()] == ["file", "file", "shmem-zero"]


def test_a_kernel_without_an_mmu_escapes_nothing():
    w = mmviz.World(mmu=False)
    fd = w.memfd_create("a\nb")
    assert w.ftruncate(fd, P) == 0
    assert w.mmap(0, P, RW, MAP_SHARED, fd, 0) > 0
    assert "/memfd:a\nb (deleted)" in w.proc_maps()       # fs/proc/task_nommu.c: seq_path(.., "")


@pytest.mark.skipif(sys.platform != "linux", reason="compares with the running Linux kernel")
def test_names_agree_with_the_running_kernel():
    from oracle.kernel_window import KernelWindow
    with KernelWindow(pages=2 * len(ODD) + 4, base=0x3800_0000_0000) as win:
        w = mmviz.World()
        for side in (win, w):
            for i, name in enumerate(ODD):
                fd = side.memfd_create(name)
                assert side.ftruncate(fd, P) == 0
                a = win.base + 2 * i * P
                assert side.mmap(a, P, RW, MAP_SHARED | MAP_FIXED, fd, 0) == a
            a = win.base + 2 * len(ODD) * P
            assert side.mmap(a, P, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED) == a
        kernel = [e["name"] for e in parse_maps("".join(line + "\n" for line in win.maps()))]
        model = [e["name"] for e in parse_maps(w.proc_maps())]
        assert model == kernel
