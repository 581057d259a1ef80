"""What a scenario is and how one is run into a Trace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..model.errors import InputError, TaskHung
from ..model.world import KERNELS, World
from ..trace.recorder import Recorder

P = 4096


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
    check: Callable | None = None   # (world, ctx, ret) -> list of notes for the end of the trace


def run(scenario: Scenario, kernel: str = "v4", nommu: bool = False, validate: bool = False):
    """Build a world, run setup, record act, return the Trace."""
    if kernel not in KERNELS:
        raise InputError(f"unknown kernel {kernel!r}; choose one of " + ", ".join(KERNELS))
    mmu = not (nommu or scenario.nommu)
    world = World(kernel, mmu=mmu, **dict(scenario.world_settings))
    ctx = scenario.setup(world)
    if kernel == "v3" and not mmu:
        return _build_error(world, scenario)
    rec = Recorder(world, validate=validate)
    world.emit("note", "user", "before the call: " + _describe(world))
    ret = None
    try:
        ret = scenario.act(world, ctx)
    except TaskHung:
        ret = None
    if not world.hung:
        if validate:
            world.validate()
        if scenario.check is not None:
            for level, msg in scenario.check(world, ctx, ret):
                world.emit(level, "user", msg)
        world.emit("note", "user", _describe_ret(ret) + "; after the call: " + _describe(world))
    else:
        world.emit("note", "user", "the task never returns to user space: it is deadlocked")
    return rec.finish(scenario.name, scenario.title, scenario.description, ret)


def _build_error(world, scenario):
    rec = Recorder(world)
    world.emit("error", "mmap_action_complete",
               "mm/util.c: error: 'casr' undeclared — v3's !CONFIG_MMU mmap_action_complete() "
               "misspells 'case MMAP_MAP_KERNEL_PAGES', so a kernel without an MMU does not "
               "even build (fixed in v4, spec §6c)")
    return rec.finish(scenario.name, scenario.title, scenario.description, None,
                      outcome="build-error")


def _describe(world) -> str:
    vmas = world.vmas()
    if not vmas:
        return "no VMAs"
    return f"{len(vmas)} VMA{'s' if len(vmas) != 1 else ''}: " + ", ".join(
        f"{v.label} [{v.vm_start:#x},{v.vm_end:#x})" for v in vmas)


def _describe_ret(ret) -> str:
    from ..model.errno import Errno, is_err
    if ret is None:
        return "no return value"
    if is_err(ret):
        return f"the call returns {Errno.name_of(ret)}"
    return f"the call returns {ret:#x}"
