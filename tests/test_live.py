"""mmviz.live: the lessons' real-kernel check stays inside its window and agrees with the model."""

from __future__ import annotations

import sys

import pytest

import mmviz
from mmviz import (MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE,
                   World)
from mmviz import live

P = 4096
RW = PROT_READ | PROT_WRITE
ANON = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="the live check needs Linux")


def test_live_needs_no_heavy_package():
    import subprocess
    code = ("import sys, mmviz.live; "
            "print([m for m in ('matplotlib', 'ipywidgets', 'IPython') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr


def test_not_linux_is_reported_not_raised(monkeypatch):
    monkeypatch.setattr(live.sys, "platform", "darwin")
    ok, why = live.available()
    assert not ok and "not Linux" in why
    c = live.compare(lambda s, b: s.mmap(b, P, RW, ANON), World())
    assert c.kernel is None and not c.same
    assert "not Linux" in c.table() and "[ 0, 1) rw-p anon" in c.table()


@linux_only
def test_calls_outside_the_window_never_reach_the_kernel():
    with live.LiveWindow(pages=8) as w:
        for bad in (lambda: w.mmap(0x10000000, P, RW, ANON),
                    lambda: w.mmap(w.base, P, RW, MAP_PRIVATE | MAP_ANONYMOUS),   # no FIXED
                    lambda: w.mmap(w.base + 7 * P, 2 * P, RW, ANON),             # runs out
                    lambda: w.munmap(w.base - P, P),                             # the guard
                    lambda: w.mprotect(w.base, 9 * P, PROT_READ),
                    lambda: w.mmap(w.base, P, RW, MAP_SHARED | MAP_FIXED, 0, 0),  # stdin
                    lambda: w.touch(w.base + 8 * P)):
            with pytest.raises(ValueError):
                bad()
        assert w.proc_maps() == ""
        lo = open("/proc/self/maps").read()
        assert f"{w.base - P:x}-{w.base:x} ---s" in lo                           # guards
        assert f"{w.end:x}-{w.end + P:x} ---s" in lo


@linux_only
def test_touch_is_refused_where_it_would_fault():
    with live.LiveWindow(pages=8) as w:
        w.mmap(w.base, P, PROT_READ, ANON)
        assert w.touch(w.base) == -14                               # EFAULT, not SIGSEGV
        fd = w.memfd_create("small")
        w.ftruncate(fd, P)
        w.mmap(w.base + 2 * P, 2 * P, RW, MAP_SHARED | MAP_FIXED, fd, 0)
        assert w.touch(w.base + 2 * P) == 0
        assert w.touch(w.base + 3 * P) == -14                       # past EOF: SIGBUS avoided


@linux_only
def test_close_gives_the_range_back():
    w = live.LiveWindow(pages=4)
    base = w.base
    w.mmap(base, 2 * P, RW, ANON)
    w.close()
    w.close()                                                        # idempotent
    assert f"{base:x}-" not in open("/proc/self/maps").read()


@linux_only
@pytest.mark.parametrize("script", ["split", "files", "anon_vma"])
def test_model_and_kernel_agree(script):
    def split(s, b):
        s.mmap(b, 6 * P, RW, ANON)
        s.mprotect(b + 2 * P, 2 * P, PROT_READ)
        s.munmap(b + 5 * P, P)

    def files(s, b):
        fd = s.memfd_create("f")
        s.ftruncate(fd, 16 * P)
        s.mmap(b, 2 * P, RW, MAP_SHARED | MAP_FIXED, fd, 0)
        s.mmap(b + 2 * P, 2 * P, RW, MAP_SHARED | MAP_FIXED, s.dup(fd), 2 * P)
        s.mmap(b + 4 * P, 2 * P, RW, MAP_SHARED | MAP_FIXED, s.reopen(fd), 4 * P)

    def anon_vma(s, b):
        s.mmap(b, 2 * P, RW, ANON)
        s.touch(b)
        s.mmap(b + 4 * P, 2 * P, RW, ANON)
        s.touch(b + 4 * P)
        s.mmap(b + 2 * P, 2 * P, RW, ANON)

    c = live.compare({"split": split, "files": files, "anon_vma": anon_vma}[script],
                     mmviz.World())
    assert c.same, c.table()
    assert c.table().endswith("agree")
