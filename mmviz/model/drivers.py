"""Model drivers: file types a scenario can map, each able to fail at any hook.

Kinds (the `kind` of a DriverSpec):
- "regular":        a file whose mmap_prepare sets vm_ops (with ->mapped), action MMAP_NOTHING
- "pfn-remap":      a device: mmap_action_remap_full (MMAP_REMAP_PFN)
- "io-remap":       a device: mmap_action_ioremap_full (MMAP_IO_REMAP_PFN)
- "simple-ioremap": a device: mmap_action_simple_ioremap (the vm_iomap_memory() equivalent)
- "kernel-pages":   a device: mmap_action_map_kernel_pages_full (the vm_insert_pages() one)
- "legacy":         a device with the deprecated f_op->mmap (it may add flags after the merge)
- "stacked":        an overlay-like file whose .mmap forwards to a lower file via vfs_mmap()

These are drivers written against the kernel API the spec describes, not copies of real ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .checks import check_errno, is_int, short
from .errors import InputError
from .mm_types import FMODE_READ, FMODE_WRITE, file_operations, vm_operations_struct
from .mmap_action import (mmap_action_ioremap_full, mmap_action_map_kernel_pages_full,
                          mmap_action_remap_full, mmap_action_simple_ioremap)
from .uapi import PAGE_SHIFT

MAX_LFS_FILESIZE = (1 << 63) - 1

DRIVER_KINDS = ("regular", "pfn-remap", "io-remap", "simple-ioremap", "kernel-pages", "legacy",
                "stacked")
FAIL_POINTS = ("mmap_prepare", "action_complete", "mapped", "success_hook", "mmap")


@dataclass
class DriverSpec:
    """What a driver does and where it fails (errno values are negative, e.g. -Errno.ENOMEM)."""

    kind: str = "regular"
    name: str | None = None
    fail: dict = field(default_factory=dict)     # FAIL_POINTS -> negative errno
    error_hook: int | None = None                # the errno error_hook replaces any error with
    success_hook: bool = False                   # install a success_hook (it fails if fail says so)
    hide: bool = False                           # set hide_from_rmap_until_complete
    with_close: bool = False                     # vm_ops->close (such a VMA is never merged away)
    with_mapped: bool = True                     # vm_ops->mapped (mmap_prepare drivers only)
    extra_flags: int = 0                         # VM_* bits the hook adds (legacy: after the merge)
    swap_file: bool = False                      # mmap_prepare backs the mapping with a new shmem
                                                 # file (as shared /dev/zero does), spec §6h
    size_pages: int = 64                         # file or device size
    phys_base: int = 0xFE000000                  # device physical address
    lower: "DriverSpec | None" = None            # the lower file of a stacked file

    def __post_init__(self):
        self._check_fields()

    def _check_fields(self):
        """Each field's type and range (a spec's fields can be changed after it is made)."""
        if self.kind not in DRIVER_KINDS:
            raise InputError(f"unknown driver kind {short(self.kind)}; choose one of "
                             + ", ".join(DRIVER_KINDS))
        if self.name is not None and not isinstance(self.name, str):
            raise InputError(f"name must be a string or None, not {type(self.name).__name__}")
        if not isinstance(self.fail, dict):
            raise InputError("fail must be a dict of failure point to negative errno, like "
                             f"{{'mapped': -Errno.ENOMEM}} (got {type(self.fail).__name__})")
        for point, err in self.fail.items():
            if point not in FAIL_POINTS:
                raise InputError(f"unknown failure point {short(point)}; choose one of "
                                 + ", ".join(FAIL_POINTS))
            check_errno(f"the failure errno for {point}", err)
        if self.error_hook is not None:
            check_errno("error_hook (the errno it replaces any error with)", self.error_hook)
        for flag in ("success_hook", "hide", "with_close", "with_mapped", "swap_file"):
            if not isinstance(getattr(self, flag), bool):
                raise InputError(f"{flag} must be True or False, not {short(getattr(self, flag))}")
        if not is_int(self.extra_flags) or not 0 <= self.extra_flags < 1 << 64:
            raise InputError("extra_flags must be VM_* bits, like VmFlags.VM_HUGEPAGE: an "
                             f"integer in 0 .. 2**64-1 (got {short(self.extra_flags)})")
        if not is_int(self.size_pages) or not 0 <= self.size_pages <= MAX_LFS_FILESIZE >> PAGE_SHIFT:
            raise InputError("size_pages must be a number of pages in 0 .. 2**51-1 "
                             f"(got {short(self.size_pages)})")
        if not is_int(self.phys_base) or not 0 <= self.phys_base < 1 << 64:
            raise InputError("phys_base must be a physical address: an integer in 0 .. 2**64-1 "
                             f"(got {short(self.phys_base)})")
        if self.lower is not None and not isinstance(self.lower, DriverSpec):
            raise InputError(f"lower must be a DriverSpec or None, not {type(self.lower).__name__}")

    def check(self):
        """InputError, saying what is allowed, for a spec no driver could have."""
        self._check_fields()
        if self.kind == "stacked":
            if self.lower is None or self.lower.kind == "stacked":
                raise InputError("a stacked file needs a lower file that is not itself stacked")
            self.lower.check()
        if self.kind == "legacy" and "mmap_prepare" in self.fail:
            raise InputError("a legacy driver has no mmap_prepare; fail it at 'mmap' instead")
        if self.kind != "legacy" and self.kind != "stacked" and "mmap" in self.fail:
            raise InputError("only legacy and stacked files have f_op->mmap to fail")


class DriverState:
    """Per-driver counters a test or a lesson can read (never used by the kernel model)."""

    def __init__(self, spec):
        self.spec = spec
        self.prepare_calls = 0
        self.mapped_calls = 0
        self.close_calls = 0
        self.mmap_calls = 0
        self.success_hook_calls = 0
        self.error_hook_calls = 0


def _make_vm_ops(world, spec, state, name):
    def mapped(start, end, pgoff, f, private_ref):
        state.mapped_calls += 1
        err = spec.fail.get("mapped", 0)
        if err:
            return err
        private_ref[0] = f"{name}:mapped@{start:#x}"
        return 0

    def close(vma):
        state.close_calls += 1

    return vm_operations_struct(f"{name}_vm_ops",
                                close=close if spec.with_close else None,
                                mapped=mapped if spec.with_mapped and spec.kind != "legacy" else None)


def _mmap_prepare_for(world, spec, state, vm_ops):
    def success_hook(vma):
        state.success_hook_calls += 1
        return spec.fail.get("success_hook", 0)

    def error_hook(err):
        state.error_hook_calls += 1
        return spec.error_hook

    def mmap_prepare(desc):
        state.prepare_calls += 1
        err = spec.fail.get("mmap_prepare", 0)
        if err:
            return err
        desc.vm_ops = vm_ops
        desc.private_data = f"{spec.name}:prepared"
        if spec.swap_file:
            # The new file's one reference passes to the mapping (file_doesnt_need_get).
            desc.vm_file = world.new_shmem_zero_file(desc.end - desc.start)
        desc.vm_flags |= spec.extra_flags
        k = spec.kind
        if k == "pfn-remap":
            mmap_action_remap_full(desc, (spec.phys_base >> PAGE_SHIFT) + desc.pgoff)
        elif k == "io-remap":
            mmap_action_ioremap_full(desc, (spec.phys_base >> PAGE_SHIFT) + desc.pgoff)
        elif k == "simple-ioremap":
            mmap_action_simple_ioremap(desc, spec.phys_base, spec.size_pages << PAGE_SHIFT)
        elif k == "kernel-pages":
            # The driver's buffer as page numbers 0..n-1 (a range, not one object per page).
            mmap_action_map_kernel_pages_full(desc, range(desc.end - desc.start >> PAGE_SHIFT))
        desc.action.hide_from_rmap_until_complete = spec.hide
        if spec.success_hook or "success_hook" in spec.fail:
            desc.action.success_hook = success_hook
        if spec.error_hook is not None:
            desc.action.error_hook = error_hook
        return 0

    return mmap_prepare


def _legacy_mmap_for(world, spec, state, vm_ops):
    def mmap(f, vma):
        state.mmap_calls += 1
        err = spec.fail.get("mmap", 0)
        if err:
            return err
        vma.vm_ops = vm_ops
        vma.vm_private_data = f"{spec.name}:legacy"
        vma.vm_flags |= spec.extra_flags
        if spec.extra_flags:
            world.emit("note", "legacy_hook_flags")
        return 0
    return mmap


def _stacked_mmap_for(world, spec, state, lower_file):
    from .compat import vfs_mmap
    from .file_ops import vma_set_file

    def backing_file_mmap(f, vma):
        state.mmap_calls += 1
        err = spec.fail.get("mmap", 0)
        if err:
            return err
        vma_set_file(vma, lower_file)     # the VMA now maps the lower file
        return vfs_mmap(lower_file, vma)
    return backing_file_mmap


def open_driver(world, spec: DriverSpec) -> int:
    """Create the driver's file, open it read-write and return the fd."""
    if not isinstance(spec, DriverSpec):
        raise InputError("open_driver takes a DriverSpec, like DriverSpec('regular'), not "
                         f"{type(spec).__name__} {short(spec)}")
    spec.check()
    name = spec.name or f"{spec.kind}{world.next_id('driver')}"
    spec.name = name
    state = DriverState(spec)
    kind = "file" if spec.kind in ("regular", "stacked") else "device"
    path = f"/mnt/{name}" if kind == "file" else f"/dev/{name}"
    ino = world.new_inode(path, kind, dev=(0, 42) if kind == "device" else (8, 1))
    ino.i_size = spec.size_pages << PAGE_SHIFT
    vm_ops = _make_vm_ops(world, spec, state, name)
    if spec.kind == "legacy":
        fops = file_operations(f"{name}_fops", mmap=_legacy_mmap_for(world, spec, state, vm_ops))
    elif spec.kind == "stacked":
        lower_fd = open_driver(world, spec.lower)
        lower = world.fds.pop(lower_fd)      # held by the stacked file, not by an fd
        fops = file_operations(f"{name}_fops", mmap=_stacked_mmap_for(world, spec, state, lower))
        state.lower = lower
    else:
        fops = file_operations(f"{name}_fops", mmap_prepare=_mmap_prepare_for(world, spec, state, vm_ops))
    f = world.new_file(ino, fops, FMODE_READ | FMODE_WRITE)
    f.private = state
    if "action_complete" in spec.fail:
        world.faults.arm("action_complete", times=None, errno=spec.fail["action_complete"])
    return world.install_fd(f)


def driver_state(world, fd) -> DriverState:
    f = world.fget(fd)
    if f is None or not isinstance(f.private, DriverState):
        raise InputError(f"fd {fd} is not a model driver's file")
    return f.private
