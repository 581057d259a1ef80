"""No model call costs memory proportional to a length argument.

A mapping of 2^40 bytes is as cheap to model as one of a page: the model keeps ranges and
counts, never one object per page. Measured with tracemalloc (what Python allocates), not
with wall time.
"""

from __future__ import annotations

import tracemalloc

import pytest

import mmviz
from mmviz import (MAP_ANONYMOUS, MAP_FIXED, MAP_NORESERVE, MAP_POPULATE, MAP_PRIVATE,
                   MAP_SHARED, PROT_READ, PROT_WRITE)
from mmviz.model.drivers import DriverSpec

RW = PROT_READ | PROT_WRITE
BASE = 0x1000_0000_0000
LIMIT = 10 << 20            # 10 MiB: a few thousand times less than one object per page


def _peak(fn):
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("shift", [36, 40])
def test_kernel_pages_mmap_costs_no_memory_per_page(shift):
    w = mmviz.World()
    fd = w.open_driver(DriverSpec("kernel-pages", name="ring0"))
    ret, peak = _peak(lambda: w.mmap(BASE, 1 << shift, RW, MAP_SHARED | MAP_FIXED, fd, 0))
    assert ret == BASE
    assert peak < LIMIT, f"mmap of 2^{shift} bytes peaked at {peak / 2**20:.0f} MiB"
    (vma,) = w.vmas()
    assert vma.vm_end - vma.vm_start == 1 << shift
    w.validate()


@pytest.mark.parametrize("kind", ["pfn-remap", "io-remap", "simple-ioremap", "regular",
                                  "legacy"])
def test_other_drivers_map_2_40_bytes_in_bounded_memory(kind):
    w = mmviz.World()
    fd = w.open_driver(DriverSpec(kind, size_pages=1 << 28))
    ret, peak = _peak(lambda: w.mmap(BASE, 1 << 40, RW, MAP_SHARED | MAP_FIXED | MAP_POPULATE,
                                     fd, 0))
    assert ret == BASE and peak < LIMIT, (kind, peak)
    w.validate()


def test_anonymous_and_memfd_calls_over_2_40_bytes_in_bounded_memory():
    w = mmviz.World()
    big = 1 << 40

    def calls():
        assert w.mmap(BASE, big, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE
                      | MAP_POPULATE) == BASE
        assert w.mprotect(BASE + big // 2, big // 4, PROT_READ) == 0
        assert w.touch(BASE + big - 4096) == 0
        assert w.munmap(BASE + big // 4, big // 2) == 0
        fd = w.memfd_create("big")
        assert w.ftruncate(fd, big) == 0
        assert w.mmap(BASE + 2 * big, big, RW, MAP_SHARED | MAP_FIXED | MAP_POPULATE, fd, 0) \
            == BASE + 2 * big
        return w.proc_maps()

    maps, peak = _peak(calls)
    assert peak < LIMIT, peak
    assert len(maps.splitlines()) == 3
    w.validate()
