"""Custom scenarios: the Scenario Builder's choices turned into a `Scenario` (pure, testable).

    from mmviz.scenarios.custom import build_custom, run_custom
    trace = run_custom({"kernel": "v3", "file": "regular", "hide": True, "fail": "mapped"})

`options` is a plain dict (see DEFAULTS and CHOICES). A combination the kernel would
refuse, or the model cannot express, raises `InputError` with a sentence saying why and
what to pick instead; the widget shows that sentence. A combination that needs what the
chosen kernel does not have (a simple-ioremap device on the baseline, a failing ->mapped
before v3, a success_hook on mainline) runs to the outcome "unsupported":
`unsupported_reason(options)` says why, and the scenario's title and description carry it,
so the widget only shows them. On mainline the error_hook option becomes the driver's
error_override, the field that replaced the hooks.

Geometry: the recorded mmap() asks for 4 pages at A + 1 page (file offset 1 page), so a
neighbour fits on each side: the left one at A (offset 0), the right one at A + 5 pages
(offset 5). Neighbours are mapped in setup with the same file, prot and flags, so the new
mapping can merge with them wherever the kernel allows. "MAP_FIXED over an existing
mapping" places a read-only anonymous VMA over the target range first.
"""

from __future__ import annotations

from ..model.drivers import FAIL_POINTS, DriverSpec, driver_state
from ..model.errno import Errno, is_err
from ..model.errors import InputError, Unsupported
from ..model.variants import VARIANTS
from ..model.uapi import MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_READ
from ..model.world import KERNELS
from .base import RW, A, P, Scenario, run
TARGET = A + P            # where the recorded mmap() maps
LENGTH = 4 * P
PGOFF = 1                 # its file offset, in pages

# The generic driver kinds; the series' real drivers have catalog scenarios of their own.
FILE_TYPES = ("anonymous", "regular", "pfn-remap", "io-remap", "simple-ioremap", "kernel-pages",
              "legacy", "stacked")
FAILS = ("none",) + FAIL_POINTS
ERRNOS = ("ENOMEM", "EINVAL", "EAGAIN", "EPERM", "EFAULT")
NEIGHBOURS = ("none", "left", "right", "both")

CHOICES = {
    "kernel": KERNELS,
    "mmu": (True, False),
    "file": FILE_TYPES,
    "lower": tuple(k for k in FILE_TYPES if k != "anonymous"),
    "hide": (False, True),
    "fail": FAILS,
    "errno": ERRNOS,
    "error_hook": ("none",) + ERRNOS,
    "neighbours": NEIGHBOURS,
    "fixed_over": (False, True),
}
DEFAULTS = {"kernel": "v4", "mmu": True, "file": "regular", "lower": "regular", "hide": False,
            "fail": "none", "errno": "ENOMEM", "error_hook": "none", "neighbours": "none",
            "fixed_over": False}

ACTIONS = {
    "anonymous": "none: anonymous memory has no file and no mmap_action",
    "regular": "MMAP_NOTHING (the hook only fills in vm_ops)",
    "pfn-remap": "MMAP_REMAP_PFN (mmap_action_remap_full)",
    "io-remap": "MMAP_IO_REMAP_PFN, rewritten to MMAP_REMAP_PFN by prepare",
    "simple-ioremap": "MMAP_SIMPLE_IO_REMAP, rewritten to an I/O remap by prepare",
    "kernel-pages": "MMAP_MAP_KERNEL_PAGES (the vm_insert_pages() equivalent)",
    "legacy": "none: the deprecated f_op->mmap sets the VMA up itself",
    "stacked": "the lower file's, reached through vfs_mmap() and the compat layer",
}
_HAS_REAL_ACTION = ("pfn-remap", "io-remap", "simple-ioremap", "kernel-pages")


def action_for(file: str, lower: str = "regular") -> str:
    """The mmap_action a file type implies, in words (the builder shows it)."""
    if file == "stacked":
        return f"{ACTIONS['stacked']}: {ACTIONS.get(lower, '?')}"
    return ACTIONS.get(file, "?")


def normalise(options: dict | None) -> dict:
    """DEFAULTS overlaid with options, every value checked against CHOICES."""
    o = dict(DEFAULTS)
    for k, v in (options or {}).items():
        if k not in CHOICES:
            raise InputError(f"unknown option {k!r}; the options are " + ", ".join(CHOICES))
        if k == "mmu" and isinstance(v, str):
            v = {"mmu": True, "nommu": False}.get(v, v)
        if v not in CHOICES[k]:
            raise InputError(f"{k} must be one of " + ", ".join(map(str, CHOICES[k]))
                             + f" (got {v!r})")
        o[k] = v
    return o


def _errno(name) -> int:
    return -int(Errno[name])


def _refuse_if_unexpressible(o):
    """The combinations no kernel (or no model driver) can produce, each with its reason."""
    f = o["file"]
    hooked = o["lower"] if f == "stacked" else f     # whose mmap_prepare / action it is
    fail = o["fail"]
    if f == "anonymous":
        if fail != "none":
            raise InputError(f"an anonymous mapping has no file, so there is no driver hook "
                             f"({fail}) to fail; pick a file type")
        if o["hide"]:
            raise InputError("hide_from_rmap_until_complete is part of a file's mmap_action; "
                             "an anonymous mapping has no file rmap lock to hold")
        if o["error_hook"] != "none":
            raise InputError("an error_hook is installed by a file's mmap_prepare; an anonymous "
                             "mapping has none")
    if not o["mmu"] and (o["neighbours"] != "none" or o["fixed_over"]):
        raise InputError("a kernel without an MMU refuses MAP_FIXED (validate_mmap_request "
                         "returns -EINVAL), so neighbours or an existing mapping cannot be "
                         "placed; choose neighbours 'none' and no MAP_FIXED, or the MMU")
    if hooked == "legacy":
        if fail in ("mmap_prepare", "action_complete", "mapped", "success_hook"):
            raise InputError(f"a legacy driver has only the old f_op->mmap: no mmap_prepare, "
                             f"no mmap_action, no vm_ops->mapped and no success_hook, so "
                             f"'{fail}' cannot fail; fail 'mmap' instead")
        if o["hide"] or o["error_hook"] != "none":
            raise InputError("a legacy driver has no mmap_action to carry "
                             + ("hide_from_rmap_until_complete" if o["hide"] else "an error_hook")
                             + "; those need an mmap_prepare driver")
    if fail == "action_complete" and hooked not in _HAS_REAL_ACTION:
        raise InputError(f"a {hooked} file's action is {ACTIONS[hooked].split(' ')[0]}: "
                         "completion has no page-table work that could fail; pick a device "
                         "(pfn-remap, io-remap, simple-ioremap or kernel-pages)")


def driver_spec(o) -> DriverSpec | None:
    """The DriverSpec the options describe (checked), or None for anonymous memory.

    On a kernel with error_override (mainline) the error_hook option sets error_override
    instead; without an MMU every file offers get_unmapped_area, which a shared mapping
    needs there (NOMMU_MAP_DIRECT)."""
    f = o["file"]
    if f == "anonymous":
        return None
    err = _errno(o["errno"])
    fail = {} if o["fail"] == "none" else {o["fail"]: err}
    value = None if o["error_hook"] == "none" else _errno(o["error_hook"])
    overrides = VARIANTS[o["kernel"]].error_override
    hooks = {"error_override": value} if overrides else {"error_hook": value}
    direct = not o["mmu"]
    if f == "stacked":
        lower_fail = {k: v for k, v in fail.items() if k != "mmap"}
        lower = DriverSpec(o["lower"], name="lower", fail=lower_fail, hide=o["hide"],
                           size_pages=16, **hooks)
        spec = DriverSpec("stacked", name="overlay", lower=lower, get_unmapped_area=direct,
                          fail={k: v for k, v in fail.items() if k == "mmap"}, size_pages=16)
    else:
        name = {"regular": "notes", "legacy": "oldcam"}.get(f, f.replace("-", "") + "0")
        spec = DriverSpec(f, name=name, fail=fail, hide=o["hide"], size_pages=16,
                          get_unmapped_area=direct, **hooks)
    spec.check()        # InputError: e.g. a stacked file over a stacked file
    return spec


# Why a combination cannot run on the chosen kernel, per missing feature (Variant.lacks).
WHY_UNSUPPORTED = {
    "MMAP_SIMPLE_IO_REMAP": ("the baseline (Oct 2025) has only MMAP_NOTHING, MMAP_REMAP_PFN and "
                             "MMAP_IO_REMAP_PFN; a simple-ioremap device needs v3 or later"),
    "MMAP_MAP_KERNEL_PAGES": ("the baseline (Oct 2025) has only MMAP_NOTHING, MMAP_REMAP_PFN and "
                              "MMAP_IO_REMAP_PFN; a kernel-pages device needs v3 or later"),
    "vm_ops_mapped": ("the baseline has no vm_ops->mapped, so it cannot fail: pick v3 or later, "
                      "or another failure point"),
    "action_hooks": ("mainline has no success_hook or error_hook (error_override replaced "
                     "them): pick v4 or earlier, or another failure point"),
    "error_override": "only mainline has error_override",
    "compat_desc_helpers": ("the baseline has no compat_set_desc_from_vma() and "
                            "__compat_vma_mmap(desc, vma)"),
}


def unsupported_reason(options) -> str | None:
    """Why the options need what their kernel lacks (the run ends "unsupported"), or None."""
    o = normalise(options)
    spec = driver_spec(o)
    if spec is None:
        return None
    variant = VARIANTS[o["kernel"]]
    for feature in spec.needs():
        if variant.lacks(feature):
            return f"not possible on {o['kernel']}: {WHY_UNSUPPORTED[feature]}"
    return None


def describe(o) -> tuple[str, str]:
    """A generated title and description for the options."""
    f = o["file"]
    what = ("anonymous memory" if f == "anonymous" else
            f"a stacked file over a {o['lower']} file" if f == "stacked" else
            f"a {f} file" if f in ("regular", "legacy") else f"a {f} device")
    bits = []
    if o["fail"] != "none":
        bits.append(f"{o['fail']} fails with -{o['errno']}")
    if o["hide"]:
        bits.append("hidden from the rmap until complete")
    hook_name = "error_override" if VARIANTS[o["kernel"]].error_override else "error_hook"
    if o["error_hook"] != "none":
        bits.append(f"{hook_name} turns errors into -{o['error_hook']}")
    if o["neighbours"] != "none":
        bits.append("a like neighbour " + ("on each side" if o["neighbours"] == "both"
                                           else f"on the {o['neighbours']}"))
    if o["fixed_over"]:
        bits.append("MAP_FIXED over an existing mapping")
    mode = "" if o["mmu"] else ", no MMU"
    title = (f"Custom: {what}" + (f" ({'; '.join(bits)})" if bits else "")
             + f" — {o['kernel']}{mode}")
    desc = [f"Built with the Scenario Builder. mmap() maps {LENGTH // P} pages of {what} at "
            f"{TARGET:#x}" + (" (no MMU: the kernel picks the address)" if not o["mmu"] else "")
            + f"; its action: {action_for(f, o['lower'])}."]
    if o["fail"] != "none":
        desc.append(f"The driver's {o['fail']} fails with -{o['errno']} on this call only "
                    "(setup mappings succeed).")
    if o["hide"]:
        desc.append("The action sets hide_from_rmap_until_complete, so i_mmap_rwsem stays held "
                    "from the rmap link until completion.")
    if o["error_hook"] != "none":
        if hook_name == "error_override":
            desc.append(f"Mainline has no error_hook: the driver sets error_override = "
                        f"-{o['error_hook']}, which replaces an error of the action or "
                        "->mapped after the unmap, except in the compat path.")
        else:
            desc.append(f"An error_hook replaces any error from completion with "
                        f"-{o['error_hook']}.")
    if o["neighbours"] != "none":
        desc.append("Setup maps one page on the " + ("left and right" if o["neighbours"] == "both"
                    else o["neighbours"]) + " with the same file, prot and flags, so the new "
                    "mapping may merge instead of getting a VMA of its own.")
    if o["fixed_over"]:
        desc.append("Setup first maps read-only anonymous memory over the target range, which "
                    "MAP_FIXED replaces.")
    why = unsupported_reason(o)
    if why is not None:
        title += " (not possible on this kernel)"
        desc.append(why[0].upper() + why[1:] + ".")
    return title, " ".join(desc)


def build_custom(options: dict | None) -> "Scenario":
    """The Scenario (name 'custom') for the builder's options; InputError if impossible."""
    o = normalise(options)
    _refuse_if_unexpressible(o)
    driver_spec(o)        # checked now, so errors show before recording
    anon = o["file"] == "anonymous"
    mmu = o["mmu"]
    sides = {"none": (), "left": ("left",), "right": ("right",),
             "both": ("left", "right")}[o["neighbours"]]

    def setup(world):
        ctx = {}
        wanted = {}
        if not anon:
            spec = driver_spec(o)         # a fresh spec per world: the driver may edit it
            for feature in spec.needs():  # before the failures are set aside for setup
                if world.variant.lacks(feature):
                    raise Unsupported(feature, o["kernel"], spec.name)
            target = spec.lower if spec.kind == "stacked" else spec
            wanted = {"target": dict(target.fail), "outer": dict(spec.fail)}
            target.fail.clear()           # setup's own mappings must not fail
            spec.fail.clear()
            ctx["fd"] = world.open_driver(spec)
            ctx["spec"], ctx["target"] = spec, target
        if o["fixed_over"]:
            ret = world.mmap(TARGET, LENGTH, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
            _setup_ok(ret, "the existing mapping")
        for side in sides:
            addr, pgoff = (A, 0) if side == "left" else (TARGET + LENGTH, PGOFF + LENGTH // P)
            if anon:
                ret = world.mmap(addr, P, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
            else:
                ret = world.mmap(addr, P, RW, MAP_SHARED | MAP_FIXED, ctx["fd"], pgoff * P)
            _setup_ok(ret, f"the {side} neighbour")
        if not anon:                      # arm the failure for the recorded call only
            ctx["target"].fail.update(wanted["target"])
            ctx["spec"].fail.update(wanted["outer"])
            if "action_complete" in wanted["target"]:
                world.faults.arm("action_complete", times=None,
                                 errno=wanted["target"]["action_complete"])
        return ctx

    def act(world, ctx):
        if not mmu:
            if anon:
                return world.mmap(0, LENGTH, RW, MAP_PRIVATE | MAP_ANONYMOUS)
            return world.mmap(0, LENGTH, RW, MAP_SHARED, ctx["fd"], 0)
        if anon:
            return world.mmap(TARGET, LENGTH, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
        return world.mmap(TARGET, LENGTH, RW, MAP_SHARED | MAP_FIXED, ctx["fd"], PGOFF * P)

    def check(world, ctx, ret):
        if "fd" in ctx:
            s = driver_state(world, ctx["fd"])
            if ctx["spec"].kind == "stacked":
                s = s.lower.private
            yield "note", "builder_counts", {
                "prepare": s.prepare_calls, "mmap": s.mmap_calls, "mapped": s.mapped_calls,
                "success_hook": s.success_hook_calls, "error_hook": s.error_hook_calls}
        if mmu and ret is not None and is_err(ret):
            left = world.vmas(TARGET, TARGET + LENGTH)
            if left:
                yield "warn", "still_mapped_after_error", {"errno": ret, "vma": left[0].id}

    title, description = describe(o)
    return Scenario("custom", title, description, setup, act, nommu=not mmu, check=check)


def _setup_ok(ret, what):
    if is_err(ret):
        raise InputError(f"setting up {what} failed with {Errno.name_of(ret)}, so this "
                         "combination cannot be shown")


def run_custom(options: dict | None, validate: bool = False):
    """Build the scenario and record it under the options' kernel and MMU setting."""
    o = normalise(options)
    return run(build_custom(o), kernel=o["kernel"], nommu=not o["mmu"], validate=validate)
