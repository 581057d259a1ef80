"""Set-ups, acts and checks of the scenarios about the series' history and its real drivers.

Kept apart from catalog.py so the catalog stays a list; each scenario there names the
kernel file and commit its driver is modelled on (mmviz/model/drivers.py says more).
"""

from __future__ import annotations

from ..model.drivers import HPAGE_SIZE, DriverSpec, driver_state, resv_map
from ..model.errno import Errno
from ..model.uapi import MAP_FIXED, MAP_PRIVATE, MAP_SHARED
from .base import ANON, RW, A, P


# --- §6e: the compat path over a MAP_FIXED replacement ------------------------------------------

def compat_fixed_setup(world):
    """An anonymous VMA the stacked mapping will replace; the lower file's ->mapped fails."""
    world.mmap(A, 2 * P, RW, ANON)
    lower = DriverSpec("regular", name="lower", fail={"mapped": -Errno.ENOMEM})
    return {"fd": world.open_driver(DriverSpec("stacked", name="overlay", lower=lower))}


def compat_fixed_check(world, ctx, ret):
    s = driver_state(world, ctx["fd"]).lower.private
    yield "note", "lower_counts", {"prepare": s.prepare_calls, "mapped": s.mapped_calls}
    left = world.vmas(A, A + 2 * P)
    if left and ret is not None and ret < 0:
        yield "warn", "still_mapped_after_error", {"errno": ret, "vma": left[0].id}
    elif not left:
        yield "note", "range_empty", {}


# --- §6h: a swapped file and an abort ------------------------------------------------------------

def swapped_abort_setup(world):
    return {"fd": world.open_driver(DriverSpec("regular", name="zero", swap_file=True))}


def swapped_abort_act(world, ctx):
    world.faults.arm("alloc")            # vm_area_alloc fails after mmap_prepare swapped the file
    return world.mmap(A, 2 * P, RW, MAP_SHARED | MAP_FIXED, ctx["fd"], 0)


def swapped_prepare_fail_setup(world):
    """The hook swaps the file, then its simple I/O remap does not fit the 2-page device."""
    return {"fd": world.open_driver(DriverSpec("simple-ioremap", name="regs0", swap_file=True,
                                               size_pages=2))}


# --- hugetlbfs (ea52cb24cd3f; reverted by 83f9efcce93f) -------------------------------------------

def hugetlbfs_setup(world):
    return {"fd": world.open_driver(DriverSpec("hugetlbfs", name="huge", size_pages=4096))}


def hugetlbfs_shared_act(world, ctx):
    return world.mmap(A, HPAGE_SIZE, RW, MAP_SHARED | MAP_FIXED, ctx["fd"], 0)


def hugetlbfs_leak_act(world, ctx):
    world.faults.arm("alloc")            # ENOMEM allocating the VMA, after mmap_prepare
    return world.mmap(A, HPAGE_SIZE, RW, MAP_PRIVATE | MAP_FIXED, ctx["fd"], 0)


def hugetlbfs_check(world, ctx, ret):
    s = driver_state(world, ctx["fd"])
    f = world.fget(ctx["fd"])
    vmas = [v for v in f.f_mapping.i_mmap.values() if v.vm_file is f]
    private = sum(1 for v in vmas if isinstance(v.vm_private_data, resv_map))
    yield "note", "hugetlb_state", {"reserved": s.reserved, "resv_maps": s.resv_maps,
                                    "vma_locks": len(s.vma_locks), "vmas": len(vmas)}
    if s.resv_maps > private:
        yield "warn", "prepare_state_leaked", {"resv_maps": s.resv_maps - private,
                                               "reserved": s.reserved}
    for visible in s.lock_alloc_visible:
        if visible:
            yield "warn", "hugetlb_lock_visible", {}


# --- /dev/mem (drivers/char/mem.c) ------------------------------------------------------------

def devmem_setup(world):
    return {"fd": world.open_driver(DriverSpec("devmem", name="mem",
                                               fail={"action_complete": -Errno.ENOMEM}))}


def devmem_act(world, ctx):
    # Offset = physical address: the device registers at 0xfe000000.
    return world.mmap(A, 4 * P, RW, MAP_SHARED | MAP_FIXED, ctx["fd"], 0xFE000000)


# --- UIO with a nested mmap_prepare (drivers/uio/uio.c, target_core_user) -------------------------

def uio_setup(world):
    return {"fd": world.open_driver(DriverSpec("uio", name="uio0"))}


def uio_hide_setup(world):
    return {"fd": world.open_driver(DriverSpec("uio", name="uio0", with_mapped=False,
                                               hide=True))}




def refs_check(world, ctx, ret):
    """Each live VMA of the driver's file should hold exactly one reference on its object."""
    s = driver_state(world, ctx["fd"])
    f = world.fget(ctx["fd"])
    vmas = sum(1 for v in f.f_mapping.i_mmap.values() if v.vm_file is f)
    yield "note", "driver_refs", {"refs": s.refs, "vmas": vmas, "prepare": s.prepare_calls,
                                  "mapped": s.mapped_calls, "close": s.close_calls}
    if s.refs != vmas:
        yield "warn", "driver_ref_leak", {"refs": s.refs, "vmas": vmas}


# --- a reference taken in mmap_prepare, and a merge (§6d5, §6k) ---------------------------------

def refcount_setup(ref_in):
    def setup(world):
        fd = world.open_driver(DriverSpec("refcount", name="afsfile", ref_in=ref_in))
        world.mmap(A, P, RW, MAP_SHARED | MAP_FIXED, fd, 0)
        return {"fd": fd}
    return setup


def refcount_act(world, ctx):
    """Map the next page of the file, with the same flags: it merges into the first VMA."""
    return world.mmap(A + P, P, RW, MAP_SHARED | MAP_FIXED, ctx["fd"], P)


# --- mainline's error_override, written wrong -----------------------------------------------------

def override_setup(world):
    # A positive errno (the minus sign forgotten): check_mmap_action() refuses it.
    return {"fd": world.open_driver(DriverSpec("pfn-remap", name="fb0",
                                               error_override=int(Errno.EAGAIN)))}
