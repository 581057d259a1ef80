"""Model drivers: file types a scenario can map, each able to fail at any hook.

Kinds (the `kind` of a DriverSpec):
- "regular":        a file whose mmap_prepare sets vm_ops (with ->mapped), action MMAP_NOTHING
- "pfn-remap":      a device: mmap_action_remap_full (MMAP_REMAP_PFN)
- "io-remap":       a device: mmap_action_ioremap_full (MMAP_IO_REMAP_PFN)
- "simple-ioremap": a device: mmap_action_simple_ioremap (the vm_iomap_memory() equivalent)
- "kernel-pages":   a device: mmap_action_map_kernel_pages_full (the vm_insert_pages() one)
- "legacy":         a device with the deprecated f_op->mmap (it may add flags after the merge)
- "stacked":        an overlay-like file whose .mmap forwards to a lower file via vfs_mmap()

The real drivers of the series, modelled from what they do (not their code):
- "hugetlbfs": fs/hugetlbfs/inode.c as converted by ea52cb24cd3f "mm/hugetlbfs: update
  hugetlbfs to use mmap_prepare": prepare reserves the huge pages (a private mapping's
  reservation map goes in desc->private_data), sets the hide flag and a success_hook that
  allocates the per-VMA lock (a `hugetlb_vma_lock` in vm_private_data, shared mappings
  only). On a kernel where the conversion was reverted (83f9efcce93f, 12 May 2026) it is
  the .mmap driver again, reserving and allocating in .mmap.
- "devmem": drivers/char/mem.c's /dev/mem after "mm: update mem char driver to use
  mmap_prepare": a remap of the physical pages at the file offset, with any error turned
  into -EAGAIN (an error_hook, mmap_filter_error(); on mainline error_override).
- "uio": drivers/uio/uio.c after "uio: replace deprecated mmap hook with mmap_prepare in
  uio_info" (v4 19/21) with target_core_user's callback: the device's .mmap runs the nested
  uio_info->mmap_prepare through compat_set_desc_from_vma() and __compat_vma_mmap(); its
  vm_ops->mapped takes a reference on the device (udev->kref), close drops it.
- "refcount": a file converted from .mmap that counts its mappings, as afs did ("wrongly
  manipulated reference count at mmap_prepare time", v4 cover letter): ref_in="prepare"
  takes the reference in mmap_prepare (wrong: a merge or a later failure leaves it
  unbalanced), ref_in="mapped" in vm_ops->mapped (the fix); close drops it.

These are drivers written against the kernel API the spec describes, not copies of real ones.
Each driver is written for the kernel it runs on: where the kernel has no vm_ops->mapped
the driver has none, and what a kernel lacks entirely (needs()) raises Unsupported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .checks import check_errno, is_int, short
from .errno import Errno
from .errors import InputError, Unsupported
from .locking import RwSem
from .mm_types import FMODE_READ, FMODE_WRITE, file_operations, vm_operations_struct
from .mmap_action import (mmap_action_ioremap_full, mmap_action_map_kernel_pages_full,
                          mmap_action_remap_full, mmap_action_simple_ioremap)
from .uapi import PAGE_SHIFT, PAGE_SIZE
from .vm_flags import VmFlags

MAX_LFS_FILESIZE = (1 << 63) - 1
HPAGE_SHIFT = 21                       # 2 MiB huge pages (x86-64 default hstate)
HPAGE_SIZE = 1 << HPAGE_SHIFT

DRIVER_KINDS = ("regular", "pfn-remap", "io-remap", "simple-ioremap", "kernel-pages", "legacy",
                "stacked", "hugetlbfs", "devmem", "uio", "refcount")
FAIL_POINTS = ("mmap_prepare", "action_complete", "mapped", "success_hook", "mmap")
# The failure points each of the real drivers has (the others decide their hooks themselves).
_KIND_FAILS = {"hugetlbfs": ("mmap_prepare",), "devmem": ("mmap_prepare", "action_complete"),
               "uio": ("mmap_prepare", "mapped"), "refcount": ("mmap_prepare", "mapped")}
_C_INT = (-(1 << 31), (1 << 31) - 1)


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
    error_override: int | None = None            # mainline: the value prepare puts in
                                                 # action.error_override (a negative errno;
                                                 # anything else check_mmap_action refuses)
    get_unmapped_area: bool = False              # f_op->get_unmapped_area: without an MMU it
                                                 # says where the driver's memory is, which a
                                                 # shared mapping needs (NOMMU_MAP_DIRECT)
    ref_in: str = "prepare"                      # "refcount" kind: "prepare" or "mapped"
    forget_hide: bool = False                    # hugetlbfs: a counterfactual conversion that
                                                 # does not set hide_from_rmap_until_complete,
                                                 # to see why the real one had to

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
        if self.error_override is not None and (
                not is_int(self.error_override)
                or not _C_INT[0] <= self.error_override <= _C_INT[1]):
            raise InputError("error_override must be None or a C int, normally a negative errno "
                             f"like -Errno.EAGAIN (got {short(self.error_override)})")
        if self.ref_in not in ("prepare", "mapped"):
            raise InputError(f"ref_in must be 'prepare' or 'mapped' (got {short(self.ref_in)})")
        for flag in ("success_hook", "hide", "with_close", "with_mapped", "swap_file",
                     "get_unmapped_area", "forget_hide"):
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
        if self.kind not in ("legacy", "stacked") and "mmap" in self.fail:
            raise InputError("only legacy and stacked files have f_op->mmap to fail")
        allowed = _KIND_FAILS.get(self.kind)
        if allowed is not None:
            bad = [p for p in self.fail if p not in allowed]
            if bad:
                raise InputError(f"the {self.kind} driver can fail at " + ", ".join(allowed)
                                 + f", not at {bad[0]}")
            if (self.error_hook is not None or self.error_override is not None
                    or self.success_hook):
                raise InputError(f"the {self.kind} driver chooses its own hooks; leave "
                                 "error_hook, error_override and success_hook unset")

    def needs(self) -> tuple:
        """What the driver needs from a kernel (variants.FEATURES): a kernel that lacks one
        cannot run it (Unsupported). hugetlbfs and /dev/mem adapt to the kernel instead."""
        k = self.kind
        out = []
        if k in ("simple-ioremap", "kernel-pages"):
            out.append("MMAP_SIMPLE_IO_REMAP" if k == "simple-ioremap" else "MMAP_MAP_KERNEL_PAGES")
        if "mapped" in self.fail or (k == "refcount" and self.ref_in == "mapped"):
            out.append("vm_ops_mapped")
        if self.success_hook or "success_hook" in self.fail or self.error_hook is not None:
            out.append("action_hooks")
        if self.error_override is not None:
            out.append("error_override")
        if k == "uio":
            out.append("compat_desc_helpers")
            if self.with_mapped:
                out.append("vm_ops_mapped")
        if self.lower is not None:
            out.extend(f for f in self.lower.needs() if f not in out)
        return tuple(dict.fromkeys(out))


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
        self.refs = 0                  # refcount/uio: references the driver's object holds
        self.reserved = 0              # hugetlbfs: huge pages reserved for mappings
        self.resv_maps = 0             # hugetlbfs: reservation maps of private mappings
        self.vma_locks = []            # hugetlbfs: live per-VMA locks
        self.lock_alloc_visible = []   # hugetlbfs: could the rmap see the VMA when its
                                       # lock was allocated?
        self.lower = None


class hugetlb_vma_lock:
    """The per-VMA lock of a shared hugetlb mapping (mm/hugetlb.c), kept in vm_private_data.

    Page faults and truncation of the file take `rw_sema`; an rmap walker that finds the
    VMA before the lock exists is the race the hide flag was meant to prevent."""

    __slots__ = ("id", "vma", "rw_sema", "freed")

    def __init__(self, world, vma):
        self.id = world.next_id("hugetlb_vma_lock")
        self.vma = vma
        self.rw_sema = RwSem(world, f"hugetlb_vma_lock#{self.id}", "hugetlb")
        self.freed = False

    @property
    def label(self) -> str:
        return f"hugetlb_vma_lock#{self.id}"


class resv_map:
    """A private hugetlb mapping's reservation map (mm/hugetlb.c): who owns which huge pages."""

    __slots__ = ("id", "pages")

    def __init__(self, world, pages):
        self.id = world.next_id("resv_map")
        self.pages = pages

    @property
    def label(self) -> str:
        return f"resv_map#{self.id}"


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

    has_mapped = (spec.with_mapped and spec.kind != "legacy"
                  and world.variant.has_mapped_hook)     # no ->mapped before v3
    return vm_operations_struct(f"{name}_vm_ops",
                                close=close if spec.with_close else None,
                                mapped=mapped if has_mapped else None)


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
        if spec.error_override is not None:
            desc.action.error_override = spec.error_override
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


# --- the real drivers of the series ----------------------------------------------------------

def _hugetlbfs_fops(world, spec, state, name):
    """hugetlbfs: mmap_prepare + success_hook (ea52cb24cd3f), or .mmap after the revert."""

    def close(vma):
        state.close_calls += 1
        private = vma.vm_private_data
        if isinstance(private, hugetlb_vma_lock):
            private.freed = True
            state.vma_locks.remove(private)
        elif isinstance(private, resv_map):
            state.resv_maps -= 1
            state.reserved -= private.pages

    vm_ops = vm_operations_struct("hugetlb_vm_ops", close=close)

    def check(pgoff, length):
        """Huge-page alignment of offset and length (hugetlbfs refuses anything else)."""
        hpages = HPAGE_SIZE >> PAGE_SHIFT
        if pgoff % hpages or length % HPAGE_SIZE:
            return -Errno.EINVAL
        return spec.fail.get("mmap_prepare", 0)      # hugetlb_reserve_pages() failing

    def reserve(flags, length):
        """hugetlb_reserve_pages(): a shared mapping reserves in the file's map; a private
        one gets a reservation map of its own (the caller puts it in private data)."""
        pages = length >> HPAGE_SHIFT
        state.reserved += pages
        if flags & VmFlags.VM_MAYSHARE:
            return None
        state.resv_maps += 1
        return resv_map(world, pages)

    def vma_lock_alloc(vma):
        """hugetlb_vma_lock_alloc(): shared mappings only."""
        if not vma.vm_flags & VmFlags.VM_MAYSHARE:
            return 0
        lock = hugetlb_vma_lock(world, vma)
        state.vma_locks.append(lock)
        # Visible = linked into the file's i_mmap with the rmap lock no longer held.
        state.lock_alloc_visible.append(vma.shared_rb is not None and not vma.hidden)
        vma.vm_private_data = lock
        return 0

    if world.variant.hugetlbfs_mmap_prepare:
        def success_hook(vma):
            state.success_hook_calls += 1
            return vma_lock_alloc(vma)

        def hugetlbfs_file_mmap_prepare(desc):
            state.prepare_calls += 1
            desc.vm_flags |= VmFlags.VM_HUGETLB | VmFlags.VM_DONTEXPAND
            desc.vm_ops = vm_ops
            err = check(desc.pgoff, desc.end - desc.start)
            if err:
                return err
            desc.private_data = reserve(desc.vm_flags, desc.end - desc.start)
            # Allocate the VMA lock once the VMA exists, and keep the VMA hidden from the
            # rmap until then: a walker could otherwise find it without its lock.
            desc.action.success_hook = success_hook
            desc.action.hide_from_rmap_until_complete = not spec.forget_hide
            return 0
        return file_operations(f"{name}_fops", mmap_prepare=hugetlbfs_file_mmap_prepare)

    def hugetlbfs_file_mmap(f, vma):
        state.mmap_calls += 1
        vma.vm_flags |= VmFlags.VM_HUGETLB | VmFlags.VM_DONTEXPAND
        vma.vm_ops = vm_ops
        err = check(vma.vm_pgoff, vma.vm_end - vma.vm_start)
        if err:
            return err
        vma_lock_alloc(vma)                  # the reverted code allocates it while reserving
        private = reserve(vma.vm_flags, vma.vm_end - vma.vm_start)
        if private is not None:
            vma.vm_private_data = private
        return 0
    return file_operations(f"{name}_fops", mmap=hugetlbfs_file_mmap)


def _devmem_fops(world, spec, state, name):
    """/dev/mem: remap the physical pages at the file offset; errors become -EAGAIN."""

    def mmap_filter_error(err):
        state.error_hook_calls += 1
        return -Errno.EAGAIN

    vm_ops = vm_operations_struct("mmap_mem_ops")

    def mmap_mem_prepare(desc):
        state.prepare_calls += 1
        err = spec.fail.get("mmap_prepare", 0)    # e.g. range_is_allowed() saying -EPERM
        if err:
            return err
        desc.vm_ops = vm_ops
        mmap_action_remap_full(desc, desc.pgoff)
        if world.variant.error_override:
            desc.action.error_override = -Errno.EAGAIN
        else:
            desc.action.error_hook = mmap_filter_error
        return 0
    return file_operations(f"{name}_fops", mmap_prepare=mmap_mem_prepare)


def _refcount_vm_ops(spec, state, name):
    def open_(vma):
        state.refs += 1

    def close(vma):
        state.close_calls += 1
        state.refs -= 1

    def mapped(start, end, pgoff, f, private_ref):
        state.mapped_calls += 1
        err = spec.fail.get("mapped", 0)
        if err:
            return err
        state.refs += 1
        return 0

    return vm_operations_struct(f"{name}_vm_ops", open=open_, close=close,
                                mapped=mapped if spec.ref_in == "mapped" else None)


def _refcount_fops(world, spec, state, name):
    vm_ops = _refcount_vm_ops(spec, state, name)

    def mmap_prepare(desc):
        state.prepare_calls += 1
        err = spec.fail.get("mmap_prepare", 0)
        if err:
            return err
        desc.vm_ops = vm_ops
        desc.private_data = f"{name}:object"
        if spec.ref_in == "prepare":
            state.refs += 1          # "the mapping will now succeed": it may not
        return 0
    return file_operations(f"{name}_fops", mmap_prepare=mmap_prepare)


def _uio_fops(world, spec, state, name):
    """A UIO device: .mmap runs the nested uio_info->mmap_prepare through the compat halves."""
    from .compat import __compat_vma_mmap, compat_set_desc_from_vma
    from .instrument import call_hook
    from .mm_types import vm_area_desc

    tcmu_spec = DriverSpec("refcount", name=name, ref_in="mapped" if spec.with_mapped else "prepare",
                           fail={k: v for k, v in spec.fail.items() if k == "mapped"})
    vm_ops = _refcount_vm_ops(tcmu_spec, state, name)
    if not spec.with_mapped:
        vm_ops.open = vm_ops.close = None

    def info_mmap_prepare(desc):
        state.prepare_calls += 1
        err = spec.fail.get("mmap_prepare", 0)
        if err:
            return err
        desc.vm_flags |= VmFlags.VM_DONTEXPAND | VmFlags.VM_DONTDUMP
        desc.vm_ops = vm_ops
        desc.private_data = f"{name}:udev"
        desc.action.hide_from_rmap_until_complete = spec.hide
        return 0

    def uio_mmap(f, vma):
        state.mmap_calls += 1
        desc = vm_area_desc(vma.vm_mm, f)
        compat_set_desc_from_vma(desc, f, vma)
        err = call_hook(world, "uio_info->mmap_prepare", info_mmap_prepare, desc)
        if err:
            return err
        return __compat_vma_mmap(desc, vma)
    return file_operations(f"{name}_fops", mmap=uio_mmap)


def _get_unmapped_area(f, addr, length, pgoff, flags):
    """A driver's f_op->get_unmapped_area: where its memory is (nommu). The model finds a free
    stretch top-down, as a copy would get (device addresses are not modelled)."""
    from .do_mmap import unmapped_area_topdown
    return unmapped_area_topdown(f.world.mm, length, PAGE_SIZE)


def open_driver(world, spec: DriverSpec) -> int:
    """Create the driver's file, open it read-write and return the fd.

    Unsupported if the kernel lacks something the driver needs (spec.needs())."""
    if not isinstance(spec, DriverSpec):
        raise InputError("open_driver takes a DriverSpec, like DriverSpec('regular'), not "
                         f"{type(spec).__name__} {short(spec)}")
    spec.check()
    for feature in spec.needs():
        if world.variant.lacks(feature):
            raise Unsupported(feature, world.variant.name, spec.name or spec.kind)
    name = spec.name or f"{spec.kind}{world.next_id('driver')}"
    spec.name = name
    state = DriverState(spec)
    kind = "file" if spec.kind in ("regular", "stacked", "refcount") else (
        "hugetlbfs" if spec.kind == "hugetlbfs" else "device")
    path = {"file": f"/mnt/{name}", "device": f"/dev/{name}",
            "hugetlbfs": f"/dev/hugepages/{name}"}[kind]
    ino = world.new_inode(path, kind, dev=(0, 42) if kind == "device" else (8, 1))
    ino.i_size = spec.size_pages << PAGE_SHIFT
    vm_ops = _make_vm_ops(world, spec, state, name)
    if spec.kind == "legacy":
        fops = file_operations(f"{name}_fops", mmap=_legacy_mmap_for(world, spec, state, vm_ops))
    elif spec.kind == "stacked":
        lower_fd = open_driver(world, spec.lower)
        lower = world.fds.pop(lower_fd)      # its reference is now the stacked file's
        world.file_holders[lower.id] = world.file_holders.get(lower.id, 0) + 1
        fops = file_operations(f"{name}_fops", mmap=_stacked_mmap_for(world, spec, state, lower))
        state.lower = lower
    elif spec.kind == "hugetlbfs":
        fops = _hugetlbfs_fops(world, spec, state, name)
    elif spec.kind == "devmem":
        fops = _devmem_fops(world, spec, state, name)
    elif spec.kind == "refcount":
        fops = _refcount_fops(world, spec, state, name)
    elif spec.kind == "uio":
        fops = _uio_fops(world, spec, state, name)
    else:
        fops = file_operations(f"{name}_fops", mmap_prepare=_mmap_prepare_for(world, spec, state, vm_ops))
    if spec.get_unmapped_area:
        fops.get_unmapped_area = _get_unmapped_area
        if kind != "device":          # a memory-backed file, like ramfs
            from .nommu import ramfs_mmap_capabilities
            fops.mmap_capabilities = ramfs_mmap_capabilities
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
