"""The kernel objects the model needs (include/linux/mm_types.h, include/linux/fs.h).

Plain mutable records with the kernel's field names. Behaviour lives in module-level
functions elsewhere; these classes only hold state and a few read-only conveniences.
"""

from __future__ import annotations

from .locking import RwSem
from .uapi import PAGE_SHIFT, TASK_SIZE
from .vma_tree import VmaTree
from .vm_flags import VM_SPECIAL

FMODE_READ = 0x1
FMODE_WRITE = 0x2


class anon_vma:
    """The anonymous rmap root (mm/rmap.c); the model keeps identity and two harness flags."""

    __slots__ = ("id", "rwsem", "was_cloned", "was_unlinked")

    def __init__(self, world, ident: int):
        self.id = ident
        self.rwsem = RwSem(world, f"anon_vma#{ident}.rwsem", "anon_vma")
        self.was_cloned = False
        self.was_unlinked = False

    def __repr__(self):
        return f"anon_vma#{self.id}"


class vm_operations_struct:
    """The VMA callbacks that matter to mmap (include/linux/mm.h).

    Each callback is a Python callable or None: open(vma), close(vma),
    mapped(start, end, pgoff, file, private_ref) -> int, may_split(vma, addr) -> int.
    """

    __slots__ = ("name", "open", "close", "mapped", "may_split", "mprotect")

    def __init__(self, name, open=None, close=None, mapped=None, may_split=None, mprotect=None):
        self.name = name
        self.open = open
        self.close = close
        self.mapped = mapped
        self.may_split = may_split
        self.mprotect = mprotect

    def __repr__(self):
        return f"<vm_ops {self.name}>"


class address_space:
    """A file's page cache mapping: the i_mmap rmap and its non-recursive rwsem."""

    __slots__ = ("host", "i_mmap", "i_mmap_rwsem", "i_mmap_writable")

    def __init__(self, host, rwsem):
        self.host = host
        self.i_mmap: dict[int, vm_area_struct] = {}   # vma.id -> vma (an interval tree in the kernel)
        self.i_mmap_rwsem = rwsem
        self.i_mmap_writable = 0

    @property
    def world(self):
        return self.host.world


class inode:
    """Just enough of an inode: identity, name, size and its mapping."""

    __slots__ = ("world", "i_ino", "name", "i_size", "i_mapping", "dev", "kind", "noexec")

    def __init__(self, world, ino, name, kind, dev=(0, 1)):
        self.world = world
        self.i_ino = ino
        self.name = name
        self.kind = kind
        self.i_size = 0
        self.i_mapping = None
        self.dev = dev
        self.noexec = False


class file_operations:
    """f_op: the hooks a file offers to mmap (include/linux/fs.h).

    mmap(file, vma) -> int is the legacy hook; mmap_prepare(desc) -> int the new one.
    `mmap_prepare_fn` is how a stacked file's lower hook is reached through vfs_mmap.
    """

    __slots__ = ("name", "mmap", "mmap_prepare", "get_unmapped_area", "is_shmem",
                 "mmap_capabilities")

    def __init__(self, name, mmap=None, mmap_prepare=None, get_unmapped_area=None, is_shmem=False,
                 mmap_capabilities=None):
        self.name = name
        self.mmap = mmap
        self.mmap_prepare = mmap_prepare
        self.get_unmapped_area = get_unmapped_area   # (file, addr, len, pgoff, flags) -> addr
        self.is_shmem = is_shmem
        self.mmap_capabilities = mmap_capabilities   # (file) -> NOMMU_MAP_* bits (nommu)


class file:
    """struct file: one open of an inode; mappings compare these by identity, not the inode."""

    __slots__ = ("id", "f_inode", "f_op", "f_mode", "f_count", "private", "world")

    def __init__(self, world, ident, ino, f_op, f_mode):
        self.world = world
        self.id = ident
        self.f_inode = ino
        self.f_op = f_op
        self.f_mode = f_mode
        self.f_count = 1
        self.private = None   # driver state (the lower file of a stacked file, for example)

    @property
    def f_mapping(self) -> address_space:
        return self.f_inode.i_mapping

    @property
    def label(self) -> str:
        return f"{self.f_inode.name}#{self.id}"

    def __repr__(self):
        return f"<file {self.label}>"


_set = object.__setattr__


class vm_area_struct:
    """One VMA: a half-open page-aligned range with flags, file, pgoff, ops and lock state.

    Every assignment to a field also notes the VMA in its mm's change journal
    (`mm_struct.vma_journal`): "which VMAs changed" is then known without looking at all of
    them, for incremental checks and for observers such as the trace recorder.
    """

    __slots__ = ("id", "vm_mm", "vm_start", "vm_end", "vm_pgoff", "vm_file", "vm_flags",
                 "vm_page_prot", "anon_vma", "anon_vma_chain", "vm_ops", "vm_private_data",
                 "vm_lock_seq", "vm_refcnt", "vm_policy", "anon_name", "vm_userfaultfd_ctx",
                 "shared_rb", "vm_lock", "hidden", "setup_pending", "closed", "freed")

    def __init__(self, mm, ident):
        _set(self, "vm_mm", mm)
        _set(self, "id", ident)
        _set(self, "vm_start", 0)
        _set(self, "vm_end", 0)
        _set(self, "vm_pgoff", 0)
        _set(self, "vm_file", None)
        _set(self, "vm_flags", 0)
        _set(self, "vm_page_prot", 0)
        _set(self, "anon_vma", None)
        _set(self, "anon_vma_chain", [])  # the anon_vmas this VMA is chained to; >1 = fork child
        _set(self, "vm_ops", None)
        _set(self, "vm_private_data", None)
        _set(self, "vm_lock_seq", -1)
        _set(self, "vm_refcnt", 0)        # 0 = detached, 1 = attached
        _set(self, "vm_policy", None)
        _set(self, "anon_name", None)
        _set(self, "vm_userfaultfd_ctx", None)
        _set(self, "shared_rb", None)     # the address_space whose i_mmap holds this VMA
        _set(self, "vm_lock", None)       # readers and waiters of the per-VMA lock (locking.py)
        _set(self, "hidden", False)       # model-only: linked while i_mmap_rwsem is held (hide flag)
        _set(self, "setup_pending", False)  # model-only: its mmap's action/hooks have not finished
        _set(self, "closed", False)       # model-only: ->close has run
        _set(self, "freed", False)        # model-only: freed (catches a double free)
        mm.vma_journal_add(self)

    def __setattr__(self, name, value):
        _set(self, name, value)
        self.vm_mm.vma_journal_add(self)

    @property
    def world(self):
        return self.vm_mm.world

    def pages(self) -> int:
        return (self.vm_end - self.vm_start) >> PAGE_SHIFT

    @property
    def label(self) -> str:
        return f"vma#{self.id}"

    def __repr__(self):
        return (f"<vma#{self.id} [{self.vm_start:#x},{self.vm_end:#x}) pg={self.vm_pgoff:#x} "
                f"flags={self.vm_flags:#x}>")


def vma_pages(vma) -> int:
    """The VMA's length in pages. (include/linux/mm.h)"""
    return (vma.vm_end - vma.vm_start) >> PAGE_SHIFT


def vma_is_anonymous(vma) -> bool:
    """No vm_ops and no file: private anonymous memory. (include/linux/mm.h)"""
    return vma.vm_ops is None and vma.vm_file is None


def vma_is_fork_child(vma) -> bool:
    """A chain of more than one anon_vma means the VMA shares an anon_vma with a parent."""
    return vma is not None and len(vma.anon_vma_chain) > 1


def vma_is_special(vma) -> bool:
    """Any VM_SPECIAL bit set: never merged. (include/linux/mm.h)"""
    return bool(vma.vm_flags & VM_SPECIAL)


class mmap_action:
    """What to do once the VMA exists (include/linux/mm_types.h; v4 and mainline fields).

    type is one of MMAP_NOTHING, MMAP_REMAP_PFN, MMAP_IO_REMAP_PFN, MMAP_SIMPLE_IO_REMAP,
    MMAP_MAP_KERNEL_PAGES; the per-type parameters live in `remap`, `simple_ioremap` and
    `map_kernel` dictionaries (the kernel's unions).
    """

    __slots__ = ("type", "remap", "simple_ioremap", "map_kernel", "success_hook",
                 "error_hook", "error_override", "hide_from_rmap_until_complete", "world")

    def __init__(self, world=None):
        self.world = world              # model-only: lets check_mmap_action(action) report
        self.type = "MMAP_NOTHING"
        self.remap = {}
        self.simple_ioremap = {}
        self.map_kernel = {}
        self.success_hook = None        # baseline .. v4
        self.error_hook = None          # baseline .. v4
        self.error_override = 0         # mainline: a negative errno, or 0 for none
        self.hide_from_rmap_until_complete = False


MMAP_ACTION_TYPES = ("MMAP_NOTHING", "MMAP_REMAP_PFN", "MMAP_IO_REMAP_PFN",
                     "MMAP_SIMPLE_IO_REMAP", "MMAP_MAP_KERNEL_PAGES")


class vm_area_desc:
    """The descriptor mmap_prepare fills in: no VMA exists yet (include/linux/mm_types.h)."""

    __slots__ = ("mm", "file", "start", "end", "pgoff", "vm_file", "vm_flags", "page_prot",
                 "vm_ops", "private_data", "action")

    def __init__(self, mm, file):
        self.mm = mm
        self.file = file
        self.start = 0
        self.end = 0
        self.pgoff = 0
        self.vm_file = None
        self.vm_flags = 0
        self.page_prot = 0
        self.vm_ops = None
        self.private_data = None
        self.action = mmap_action(mm.world if mm is not None else None)

    @property
    def world(self):
        return self.mm.world


def vma_desc_size(desc) -> int:
    """The descriptor's length in bytes. (include/linux/mm.h)"""
    return desc.end - desc.start


def vma_desc_pages(desc) -> int:
    """The descriptor's length in pages. (include/linux/mm.h)"""
    return vma_desc_size(desc) >> PAGE_SHIFT


def vma_desc_test_any(desc, bits) -> bool:
    """Is any of `bits` set in the descriptor's flags? (include/linux/mm.h)"""
    return bool(desc.vm_flags & bits)


def vma_desc_set_flags(desc, bits) -> None:
    """Set `bits` in the descriptor's flags. (include/linux/mm.h)"""
    desc.vm_flags |= bits


def vma_desc_clear_flags(desc, bits) -> None:
    """Clear `bits` in the descriptor's flags. (include/linux/mm.h)"""
    desc.vm_flags &= ~bits


VMA_JOURNAL_MAX = 1 << 16


class mm_struct:
    """One address space: the VMA tree, map_count, mmap_lock and the counters mmap touches.

    `vma_journal` holds the VMAs created, changed, stored, erased or unlocked since its
    reader last emptied it; past VMA_JOURNAL_MAX entries it is emptied and
    `vma_journal_resets` counts up, telling a reader to look at every VMA again.
    """

    def __init__(self, world, pid=1):
        self.world = world
        self.owner_pid = pid
        self.vma_journal: set = set()
        self.vma_journal_resets = 0
        self.mm_mt = VmaTree(self.vma_journal_add)
        self.map_count = 0
        self.mmap_lock = RwSem(world, "mmap_lock" if pid == 1 else f"mmap_lock[{pid}]",
                               "mmap_lock")
        self.mm_lock_seq = 0
        self.vma_write_locked: list = []   # VMAs write-locked in the current mmap_lock section
        self.total_vm = 0
        self.locked_vm = 0
        self.data_vm = 0
        self.exec_vm = 0
        self.stack_vm = 0
        self.def_flags = 0
        self.task_size = TASK_SIZE
        # x86-64 default top-down layout: below the stack gap of a 47-bit address space.
        self.mmap_base = 0x7FFF_F7FF_F000

    def vma_journal_add(self, vma):
        journal = self.vma_journal
        journal.add(vma)
        if len(journal) > VMA_JOURNAL_MAX:
            journal.clear()
            self.vma_journal_resets += 1
