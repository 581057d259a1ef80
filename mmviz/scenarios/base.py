"""What a scenario is and how one is run into a Trace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..model.errors import InputError, TaskHung, Unsupported, check_choices
from ..model.uapi import (MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PAGE_SIZE as P,
                          PROT_READ, PROT_WRITE)
from ..model.world import KERNELS, World
from ..trace.recorder import Recorder

# Where the scenarios map things (easy numbers to read), and how.
A = 0x10000000
RW = PROT_READ | PROT_WRITE
ANON = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED


def map_fd(length=4 * P, flags=MAP_SHARED | MAP_FIXED, prot=RW, addr=A, offset=0):
    """An act: mmap the set-up's file (ctx["fd"]) over [addr, addr + length)."""
    def act(world, ctx):
        return world.mmap(addr, length, prot, flags, ctx["fd"], offset)
    return act


def mapped_calls(world, ctx, ret):
    """A check: how often the set-up's driver had each hook called."""
    from ..model.drivers import driver_state
    s = driver_state(world, ctx["fd"])
    yield "note", "driver_counts", {
        "prepare": s.prepare_calls, "mapped": s.mapped_calls,
        "success_hook": s.success_hook_calls, "error_hook": s.error_hook_calls,
        "close": s.close_calls}


@dataclass(frozen=True)
class Scenario:
    """A named, deterministic run: `setup` builds the world unrecorded, `act` is recorded."""

    name: str
    title: str
    description: str
    setup: Callable            # (world) -> dict of whatever act needs
    act: Callable              # (world, ctx) -> return value of the last system call
    world_settings: tuple = ()  # extra KernelConfig settings, e.g. (("max_map_count", 8),)
    nommu: bool = False         # the scenario is about a kernel without an MMU
    check: Callable | None = None   # (world, ctx, ret) -> (level, what, fields) notes for the end


PREFILL_BASE = 0x2000_0000_0000    # far from the scenarios' addresses and from mmap_base


def prefill_maps(n: int) -> str:
    """/proc/PID/maps text of n anonymous VMAs (two pages each, one-page holes, alternating
    rw-p and r--p so none can merge): a stand-in for a big process's address space."""
    lines = []
    for i in range(n):
        start = PREFILL_BASE + i * 3 * P
        lines.append(f"{start:x}-{start + 2 * P:x} {'rw-p' if i % 2 else 'r--p'} 00000000 00:00 0")
    return "\n".join(lines) + "\n"


def run(scenario: Scenario, kernel: str = "v4", nommu: bool = False, validate: bool = False,
        prefill: int = 0):
    """Build a world, run setup, record act, return the Trace.

    prefill: first fill the address space with this many unrelated VMAs (see prefill_maps),
    to see the scenario inside a process the size of a real one.
    """
    check_choices("kernel", (kernel,), KERNELS)
    if isinstance(prefill, bool) or not isinstance(prefill, int) or not 0 <= prefill <= 1_000_000:
        raise InputError("prefill must be a number of VMAs from 0 to 1,000,000")
    mmu = not (nommu or scenario.nommu)
    settings = dict(scenario.world_settings)
    if prefill:
        settings["max_map_count"] = max(settings.get("max_map_count", 65530), prefill + 65530)
    world = World(kernel, mmu=mmu, **settings)
    if not mmu and not world.variant.nommu_builds:
        return _build_error(world, scenario)
    if prefill:
        from ..model.loader import load_maps
        load_maps(world, prefill_maps(prefill))
    try:
        ctx = scenario.setup(world)
    except Unsupported as e:
        return _unsupported(world, scenario, e)
    rec = Recorder(world, validate=validate)
    world.emit("note", "before")
    ret = None
    try:
        ret = scenario.act(world, ctx)
    except TaskHung:
        ret = None
    except Unsupported as e:          # an act that opens its driver itself
        world.emit("error", "unsupported", fn="user", feature=e.feature, driver=e.driver)
        return rec.finish(scenario.name, scenario.title, scenario.description, None,
                          outcome="unsupported")
    if not world.hung:
        if validate:
            world.validate()
        if scenario.check is not None:
            for level, what, fields in scenario.check(world, ctx, ret):
                world.emit(level, what, **fields)
        world.emit("note", "after", ret=ret)
    else:
        world.emit("note", "never_returns")
    return rec.finish(scenario.name, scenario.title, scenario.description, ret)


def _unsupported(world, scenario, e):
    """The scenario needs what this kernel does not have: say what, and run nothing."""
    rec = Recorder(world)
    world.emit("error", "unsupported", fn="user", feature=e.feature, driver=e.driver)
    return rec.finish(scenario.name, scenario.title, scenario.description, None,
                      outcome="unsupported")


def _build_error(world, scenario):
    rec = Recorder(world)
    world.emit("error", "build_error", fn="mmap_action_complete")
    return rec.finish(scenario.name, scenario.title, scenario.description, None,
                      outcome="build-error")
