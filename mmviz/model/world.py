"""The world: one object that owns a whole modelled system, and its user-space face.

Everything mutable lives here (the mm, open files, id counters, fault injection, lock
checker state, the event hook), so two worlds in one notebook never interfere. The
methods mmap/munmap/mprotect/... take Linux's numbers and return what the system call
returns: the address or 0 on success, -errno on failure.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .checks import check_errno, is_int, short
from .errno import Errno
from .errors import InputError, TaskHung
from .mm_types import (FMODE_READ, FMODE_WRITE, address_space, anon_vma, file, file_operations,
                       inode, mm_struct, vm_area_struct, vm_operations_struct)
from .locking import RwSem, current_fn
from .task import files_struct, task_struct
from .uapi import (MAP_DROPPABLE, MAP_TYPE, O_RDONLY, O_RDWR, O_WRONLY, PAGE_MASK, PAGE_SHIFT,
                   TASK_SIZE, ULONG_MAX, UNMODELLED_MAP_FLAGS)
from .variants import KERNELS, VARIANTS


@dataclass(frozen=True)
class KernelConfig:
    """Build and sysctl settings of the modelled kernel."""

    kernel: str = "v4"                 # a name from variants.VARIANTS (spec §0.1)
    mmu: bool = True
    max_map_count: int = 65530          # vm.max_map_count
    mmap_min_addr: int = 65536          # vm.mmap_min_addr
    overcommit_memory: int = 0          # vm.overcommit_memory (0 heuristic, 2 never)
    soft_dirty: bool = True             # CONFIG_MEM_SOFT_DIRTY on x86-64
    ksm_merge_any: bool = False         # prctl(PR_SET_MEMORY_MERGE)
    mdwe: bool = False                  # prctl(PR_SET_MDWE): deny write+exec
    rlimit_as_pages: int | None = None  # RLIMIT_AS in pages; None = unlimited
    rlimit_memlock_pages: int | None = 2048  # RLIMIT_MEMLOCK in pages (8 MiB); None = unlimited
    cap_ipc_lock: bool = False          # the processes have CAP_IPC_LOCK (mlock beyond the limit)
    # Where the heap (brk) starts: the end of the program's data segment, page aligned, as
    # a non-randomised x86-64 process would have it. brk(2) grows and shrinks from here.
    start_brk: int = 0x5555_5556_0000

    def __post_init__(self):
        if self.kernel not in KERNELS:
            raise InputError(f"unknown kernel variant {self.kernel!r}; choose one of "
                             + ", ".join(KERNELS))
        if not is_int(self.max_map_count) or self.max_map_count < 1:
            raise InputError("max_map_count must be a positive integer")
        for name in ("mmu", "soft_dirty", "ksm_merge_any", "mdwe", "cap_ipc_lock"):
            if not isinstance(getattr(self, name), bool):
                raise InputError(f"{name} must be True or False, not {short(getattr(self, name))}")
        if not is_int(self.mmap_min_addr) or not 0 <= self.mmap_min_addr <= ULONG_MAX:
            raise InputError("mmap_min_addr must be an address: an integer in 0 .. 2**64-1")
        if not is_int(self.overcommit_memory) or self.overcommit_memory not in (0, 1, 2):
            raise InputError("overcommit_memory must be 0 (heuristic), 1 (always) or 2 (never)")
        for name in ("rlimit_as_pages", "rlimit_memlock_pages"):
            value = getattr(self, name)
            if value is not None and (not is_int(value) or value < 0):
                raise InputError(f"{name} must be None (unlimited) or a number of pages >= 0")
        if (not is_int(self.start_brk) or self.start_brk % 4096
                or not 65536 <= self.start_brk < TASK_SIZE):
            raise InputError("start_brk must be a page-aligned user address (65536 .. 2**47)")


class Faults:
    """Fault injection: arm a named failure point for the next n hits (None = every hit)."""

    POINTS = ("prealloc", "alloc", "accounting", "action_complete")

    def __init__(self):
        self._armed: dict[str, list] = {}

    def arm(self, point: str, times: int | None = 1, errno: int = -Errno.ENOMEM):
        if point not in self.POINTS:
            raise InputError(f"unknown fault point {short(point)}; choose one of "
                             + ", ".join(self.POINTS))
        if times is not None and (not is_int(times) or times < 1):
            raise InputError(f"times must be a positive integer, or None for every hit "
                             f"(got {short(times)})")
        check_errno("errno", errno)
        self._armed[point] = [times, errno]

    def clear(self, point: str | None = None):
        if point is None:
            self._armed.clear()
        else:
            self._armed.pop(point, None)

    def _take(self, point):
        entry = self._armed.get(point)
        if entry is None:
            return None
        times, errno = entry
        if times is not None:
            if times <= 1:
                del self._armed[point]
            else:
                entry[0] = times - 1
        return errno

    def take(self, point: str) -> bool:
        return self._take(point) is not None

    def take_errno(self, point: str) -> int:
        err = self._take(point)
        return err or 0

    def armed(self) -> dict:
        return {k: tuple(v) for k, v in self._armed.items()}


def _ulong(name, value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{name} must be an integer, not {type(value).__name__}")
    if not -(1 << 63) <= value <= ULONG_MAX:
        raise InputError(f"{name} {value:#x} does not fit in 64 bits")
    return value & ULONG_MAX


def _cint(name, value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{name} must be an integer, not {type(value).__name__}")
    if not -(1 << 31) <= value < (1 << 32):
        raise InputError(f"{name} {value:#x} does not fit in a 32-bit C int")
    return value & 0xFFFFFFFF


def _loff(name, value):
    """A loff_t argument (a signed 64-bit file size or offset)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{name} must be an integer, not {type(value).__name__}")
    if not -(1 << 63) <= value < (1 << 63):
        raise InputError(f"{name} {value:#x} does not fit in a 64-bit off_t "
                         "(-2**63 .. 2**63-1; files are at most 2**63-1 bytes)")
    return value


def _comm(value) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 15 or not value.isprintable():
        raise InputError("a task's name (comm) must be 1 to 15 printable characters")
    return value


def _fd(value):
    """An fd argument: any int is a valid question for the kernel (a bad one is -EBADF)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"fd must be an integer, not {type(value).__name__}")
    return value


class World:
    """A modelled machine: its kernel variant, tasks, address spaces and open files.

    The calls below (mmap, munmap, ...) run as the current task, `world.current`: at first
    the main thread of process 1, whose address space is `world.mm`.
    """

    def __init__(self, kernel: str = "v4", *, mmu: bool = True, config: KernelConfig | None = None,
                 **settings):
        if config is not None and not isinstance(config, KernelConfig):
            raise InputError(f"config must be a KernelConfig, not {type(config).__name__}")
        unknown = sorted(set(settings) - set(KernelConfig.__dataclass_fields__))
        if unknown:
            raise InputError(f"unknown setting {unknown[0]!r}; the settings are "
                             + ", ".join(KernelConfig.__dataclass_fields__))
        base = config or KernelConfig()
        self.config = replace(base, kernel=kernel if config is None else base.kernel, mmu=mmu
                              if config is None else base.mmu, **settings)
        self.variant = VARIANTS[self.config.kernel]
        self.hook = None                 # callable(world, kind, fn, what, data) or None
        self.sched = None                # the Scheduler while several tasks run (sched.py)
        self.halted = False              # a deadlock ended the run: nothing happens any more
        self.violations: list[dict] = []
        self.corruption: list[str] = []  # kernel bugs the model reproduced (state may be inconsistent)
        self.faults = Faults()
        self.vm_committed = 0            # pages charged by security_vm_enough_memory_mm
        # Model-only: pages the modelled kernel charged that no VMA owns (a FIXED mremap
        # that shrinks, see mmviz.model.mremap), so the charge can still be checked.
        self.commit_leaked = 0
        self.anon_vmas: dict = {}        # id -> every anon_vma not yet freed
        self.file_holders: dict = {}     # file id -> references kernel objects hold (file_refs.py)
        self.files_touched: set = set()  # files whose count changed since the last check
        self.file_ref_reports: list = []  # file-reference leaks found when calls returned
        self._ids: dict[str, int] = {}
        self._files: list = []
        self.tasks: list = []
        self.current = self.new_task(mm_struct(self, 1), files_struct(), "main")
        self.vma_dummy_vm_ops = vm_operations_struct("vma_dummy_vm_ops")
        self.shmem_vm_ops = vm_operations_struct("shmem_vm_ops")
        from .nommu import ramfs_mmap_capabilities, ramfs_nommu_get_unmapped_area
        self.shmem_fops = file_operations("shmem_file_operations",
                                          mmap_prepare=self._shmem_mmap_prepare, is_shmem=True,
                                          get_unmapped_area=ramfs_nommu_get_unmapped_area,
                                          mmap_capabilities=ramfs_mmap_capabilities)

    @property
    def world(self) -> "World":
        return self      # lets kernel_function find the world from any argument

    # --- the current task and its process ----------------------------------------------------

    def new_task(self, mm, files, comm) -> task_struct:
        pid = len(self.tasks) + 1
        t = task_struct(self, pid, mm.owner_pid, comm, mm, files)
        self.tasks.append(t)
        return t

    def new_thread(self, comm: str) -> task_struct:
        """A second thread of the current process: it shares the address space and the fds."""
        return self.new_task(self.current.mm, self.current.files, _comm(comm))

    def new_process(self, comm: str) -> task_struct:
        """A separate process with an empty address space of its own. It shares no mappings;
        it can open the same files (fds are copied, references taken, as a fork would)."""
        from .fork import dup_fd
        return self.new_task(mm_struct(self, len(self.tasks) + 1), dup_fd(self.current.files),
                             _comm(comm))

    def run_tasks(self, programs, schedule=()):
        """Run `programs` ({task: fn(world)}) as their tasks, switching at events as `schedule`
        says (sched.py); returns (results by pid, the schedule taken)."""
        from .sched import Scheduler
        if self.sched is not None:
            raise InputError("tasks are already running in this world")
        sched = Scheduler(self, schedule)
        for task, program in programs.items():
            sched.spawn(task, program)
        return sched.run(), tuple(sched.taken)

    @property
    def mm(self):
        """The address space of the current task."""
        return self.current.mm

    @property
    def fds(self) -> dict:
        """The current process's open files: fd -> struct file."""
        return self.current.files.fd

    @property
    def held_locks(self) -> list:
        return self.current.held_locks

    @property
    def hung(self) -> bool:
        return self.current.hung

    # --- identity and object creation ---------------------------------------------------------

    def next_id(self, kind: str) -> int:
        n = self._ids.get(kind, 0) + 1
        self._ids[kind] = n
        return n

    def new_vma(self, mm) -> vm_area_struct:
        return vm_area_struct(mm, self.next_id("vma"))

    def new_anon_vma(self) -> anon_vma:
        """A new root anon_vma with no VMA yet (what __anon_vma_prepare allocates)."""
        from .rmap import anon_vma_alloc
        av = anon_vma_alloc(self)
        av.num_children = 1
        return av

    def new_inode(self, name, kind, dev=(0, 1)) -> inode:
        ino = inode(self, 1000 + self.next_id("inode"), name, kind, dev)
        ino.i_mapping = address_space(ino, RwSem(self, f"i_mmap_rwsem({name})", "i_mmap"))
        return ino

    def new_file(self, ino, f_op, f_mode=FMODE_READ | FMODE_WRITE) -> file:
        f = file(self, self.next_id("file"), ino, f_op, f_mode)
        self._files.append(f)
        self.files_touched.add(f)
        return f

    def new_shmem_zero_file(self, size) -> file:
        ino = self.new_inode("/dev/zero", "shmem-zero")
        ino.i_size = size
        return self.new_file(ino, self.shmem_fops)    # its one reference belongs to the VMA

    def all_files(self):
        return list(self._files)

    def install_fd(self, f) -> int:
        return self.current.files.install(f)

    def fget(self, fd):
        return self.current.files.get(fd)

    def _shmem_mmap_prepare(self, desc) -> int:
        desc.vm_ops = self.shmem_vm_ops
        return 0

    # --- the event hook -------------------------------------------------------------------

    def emit(self, kind, what, fn=None, **data):
        """Announce an event: `kind` (call, lock, vma, error, ...), `what` names the sentence
        that explains it (mmviz/render/narration.py), `data` holds plain fields. `fn` defaults
        to the innermost modelled function of the current task."""
        if self.halted:
            return
        if self.hook is not None:
            self.hook(self, kind, fn or current_fn(self), what, data)
        if self.sched is not None:
            self.sched.switch_point(kind, what)

    def report_violation(self, kind, lock, **fields):
        """The lock checker found a rule broken: record it, and emit a violation event."""
        fn = current_fn(self)
        self.violations.append({"kind": kind, "lock": lock, "fn": fn, **fields})
        self.emit("violation", kind, fn="lockdep" if fn == "user" else fn, violation=kind,
                  lock=lock, **fields)

    def kernel_bug(self, what, **fields):
        """The modelled kernel corrupted its own state (a real bug reproduced): record and warn."""
        self.corruption.append(what)
        self.emit("warn", what, **fields)

    def reject_input(self, message):
        raise InputError(message)

    # --- system calls ---------------------------------------------------------------------------

    def _syscall(self, name, fn, *args):
        task = self.current
        if task.hung:
            raise TaskHung("the modelled task is deadlocked; start a new World")
        try:
            ret = fn(*args)
        except TaskHung:
            task.hung = True
            self.emit("error", "task_hung", fn=name)
            raise
        from .file_refs import check_file_refs
        check_file_refs(self, name)
        if task.held_locks:
            for lock in list(task.held_locks):
                self.report_violation("held-on-return", lock.name, syscall=name)
                lock.force_release()      # model-only: so the next call starts clean
            task.held_locks.clear()
        return ret

    def mmap(self, addr, length, prot, flags, fd=-1, offset=0) -> int:
        """mmap(2): returns the address, or -errno."""
        from .do_mmap import ksys_mmap_pgoff
        from .uapi import MAP_ANONYMOUS
        addr = _ulong("addr", addr)
        length = _ulong("length", length)
        prot = _cint("prot", prot)
        flags = _cint("flags", flags)
        fd = _fd(fd)
        offset = _ulong("offset", offset)
        for bit, name in UNMODELLED_MAP_FLAGS.items():
            if flags & bit:
                raise InputError(f"{name} is not modelled; mmviz models MAP_SHARED, MAP_PRIVATE, "
                                 "MAP_SHARED_VALIDATE, MAP_ANONYMOUS, MAP_FIXED, "
                                 "MAP_FIXED_NOREPLACE, MAP_NORESERVE, MAP_POPULATE, "
                                 "MAP_STACK, MAP_LOCKED")
        if flags & MAP_TYPE == MAP_DROPPABLE:
            raise InputError("MAP_DROPPABLE is not modelled; use MAP_SHARED or MAP_PRIVATE")
        if offset & ~PAGE_MASK:
            return -Errno.EINVAL
        if not flags & MAP_ANONYMOUS and self.fget(fd) is None:
            return -Errno.EBADF
        return self._syscall("mmap", ksys_mmap_pgoff, self, addr, length, prot, flags, fd,
                             offset >> PAGE_SHIFT)

    def munmap(self, addr, length) -> int:
        """munmap(2): 0 or -errno (a kernel without an MMU has its own do_munmap)."""
        from .locking import mmap_write_lock, mmap_write_unlock
        from .nommu import do_munmap as nommu_do_munmap
        from .vma_munmap import do_munmap as mmu_do_munmap
        do_munmap = mmu_do_munmap if self.config.mmu else nommu_do_munmap
        addr = _ulong("addr", addr)
        length = _ulong("length", length)

        def sys_munmap(mm):
            mmap_write_lock(mm)
            try:
                return do_munmap(mm, addr, length)
            finally:
                mmap_write_unlock(mm)
        return self._syscall("munmap", sys_munmap, self.mm)

    def mprotect(self, addr, length, prot) -> int:
        """mprotect(2): 0 or -errno (a failure part-way leaves earlier VMAs changed, as Linux does)."""
        from .mprotect import do_mprotect_pkey
        addr = _ulong("addr", addr)
        length = _ulong("length", length)
        prot = _cint("prot", prot)
        return self._syscall("mprotect", do_mprotect_pkey, self.mm, addr, length, prot)

    def touch(self, addr, value=0x78) -> int:
        """A write of the byte `value` at addr: 0, or -EFAULT where the process would get
        SIGSEGV/SIGBUS. A private page is copied first if it is still shared (COW)."""
        from .fault_path import do_user_addr_fault
        value = _cint("value", value) & 0xFF
        return self._syscall("touch", do_user_addr_fault, self.mm, _ulong("addr", addr), True,
                             value)

    def read(self, addr) -> int:
        """A read of one byte at addr: 0, or -EFAULT where the process would be killed."""
        from .fault_path import do_user_addr_fault
        return self._syscall("read", do_user_addr_fault, self.mm, _ulong("addr", addr), False)

    def load(self, addr) -> int:
        """A read of the byte at addr returning its value (0..255), or -EFAULT."""
        from .fault import load_byte
        return self._syscall("load", load_byte, self, _ulong("addr", addr))

    def mremap(self, old_address, old_size, new_size, flags, new_address=0) -> int:
        """mremap(2): the new address, or -errno (spec §2; Linux 6.18's checks and order).

        flags: MREMAP_MAYMOVE (1), MREMAP_FIXED (2), MREMAP_DONTUNMAP (4)."""
        from .mremap import do_mremap, vma_remap_struct
        vrm = vma_remap_struct(self.mm, _ulong("old_address", old_address),
                               _ulong("old_size", old_size), _ulong("new_size", new_size),
                               _ulong("flags", flags), _ulong("new_address", new_address))
        return self._syscall("mremap", do_mremap, vrm)

    def madvise(self, addr, length, advice) -> int:
        """madvise(2): 0 or -errno. Modelled advice: NORMAL, RANDOM, SEQUENTIAL, WILLNEED,
        DONTNEED, DONTNEED_LOCKED, DONTFORK, DOFORK, WIPEONFORK, KEEPONFORK, DONTDUMP,
        DODUMP, MERGEABLE, UNMERGEABLE, HUGEPAGE, NOHUGEPAGE, COLD, PAGEOUT (spec §4)."""
        from .madvise import MADV_NAMES, UNMODELLED_ADVICE, do_madvise
        addr = _ulong("addr", addr)
        length = _ulong("length", length)
        advice = _cint("advice", advice)
        if advice >= 1 << 31:
            advice -= 1 << 32
        if advice in UNMODELLED_ADVICE:
            raise InputError(f"{MADV_NAMES[advice]} is not modelled; see World.madvise for "
                             "the advice that is")
        return self._syscall("madvise", do_madvise, self.mm, addr, length, advice)

    def mlock(self, addr, length) -> int:
        """mlock(2): lock the pages of [addr, addr + length): 0 or -errno (spec §4.5)."""
        from .mlock import do_mlock
        from .vm_flags import VmFlags
        return self._syscall("mlock", do_mlock, self.mm, _ulong("addr", addr),
                             _ulong("length", length), VmFlags.VM_LOCKED)

    def mlock2(self, addr, length, flags) -> int:
        """mlock2(2): like mlock; MLOCK_ONFAULT (1) locks pages only as they fault in."""
        from .mlock import do_mlock
        from .uapi import MLOCK_ONFAULT
        from .vm_flags import VmFlags
        addr = _ulong("addr", addr)
        length = _ulong("length", length)
        flags = _cint("flags", flags)
        if flags & ~MLOCK_ONFAULT:
            return -Errno.EINVAL
        vm_flags = VmFlags.VM_LOCKED | (VmFlags.VM_LOCKONFAULT if flags & MLOCK_ONFAULT else 0)
        return self._syscall("mlock2", do_mlock, self.mm, addr, length, vm_flags)

    def munlock(self, addr, length) -> int:
        """munlock(2): 0 or -errno."""
        from .mlock import sys_munlock
        return self._syscall("munlock", sys_munlock, self.mm, _ulong("addr", addr),
                             _ulong("length", length))

    def brk(self, addr) -> int:
        """brk(2): the new program break, or the old one if the kernel refuses (brk(0)
        reads it). The heap starts at KernelConfig.start_brk (see mmviz.model.brk)."""
        from .brk import sys_brk
        return self._syscall("brk", sys_brk, self.mm, _ulong("addr", addr))

    def fork(self):
        """fork(2): a Process handle for the child (same calls, its own address space and
        fd table in this world), or -ENOMEM if the copy failed (spec §3)."""
        from .fork import copy_process
        from .process import Process
        err, child = self._syscall("fork", copy_process, self.current)
        if err:
            return err
        return Process(self, child)

    def process(self, pid):
        """A handle on process `pid` of this world (1 is this World's own process)."""
        from .process import Process
        for t in self.tasks:
            if t.tgid == pid:
                return Process(self, t)
        raise InputError(f"no process {short(pid)} in this world; the processes are "
                         + ", ".join(str(t.tgid) for t in self.tasks))

    def rmap_walk(self, addr):
        """Which VMAs of which processes an rmap walk from the page at addr visits
        (rmap_walk_anon or rmap_walk_file): an RmapWalk (mmviz.model.rmap_walk)."""
        from .rmap_walk import page_rmap_walk
        return self._syscall("rmap_walk", page_rmap_walk, self, _ulong("addr", addr))

    def memfd_create(self, name: str) -> int:
        """memfd_create(2): a new shmem file, opened read-write; returns its fd."""
        if not isinstance(name, str) or len(name) > 249 or "/" in name:
            raise InputError("memfd name must be a string of at most 249 characters without '/'")
        ino = self.new_inode(f"/memfd:{name}", "memfd")
        return self.install_fd(self.new_file(ino, self.shmem_fops))

    def ftruncate(self, fd, size) -> int:
        """ftruncate(2): 0 or -errno. Mirrors do_sys_ftruncate() and do_ftruncate() (fs/open.c):
        a negative length is -EINVAL before the fd is looked at; a file that is not regular
        or not open for writing is -EINVAL. A size beyond a 64-bit off_t cannot reach the
        kernel and is refused; every size that fits is within shmem's s_maxbytes
        (MAX_LFS_FILESIZE), so inode_newsize_ok()'s -EFBIG cannot happen here."""
        size = _loff("size", size)
        fd = _fd(fd)
        if size < 0:
            return -Errno.EINVAL
        f = self.fget(fd)
        if f is None:
            return -Errno.EBADF
        if f.f_inode.kind == "device" or not f.f_mode & FMODE_WRITE:
            return -Errno.EINVAL
        from .rmap_walk_file import do_truncate
        return self._syscall("ftruncate", do_truncate, f, size)

    def reclaim(self, fd, pgoff=0) -> int:
        """Reclaim's look at page `pgoff` of the file: how many mappings referenced it
        (folio_referenced), or -1 when its rmap lock is contended (the walk only tries it)."""
        from .rmap_walk_file import folio_referenced
        f = self.fget(_fd(fd))
        if f is None:
            return -Errno.EBADF
        return self._syscall("reclaim", folio_referenced, f, _ulong("pgoff", pgoff))

    def read_proc_maps(self) -> str:
        """Read /proc/self/maps as a task does: VMA by VMA under per-VMA read locks, waiting
        for mmap_lock only at a VMA another task has write-locked (fs/proc/task_mmu.c)."""
        from .proc_maps_reader import show_maps
        return self._syscall("read_maps", show_maps, self.mm)

    def dup(self, fd) -> int:
        """dup(2): a new fd for the same open file (mappings through it can merge)."""
        from .file_ops import get_file
        f = self.fget(_fd(fd))
        if f is None:
            return -Errno.EBADF
        return self.install_fd(get_file(f))

    def reopen(self, fd, flags=O_RDWR) -> int:
        """open("/proc/self/fd/N"): a new open file of the same inode (mappings never merge across)."""
        f = self.fget(_fd(fd))
        if f is None:
            return -Errno.EBADF
        if flags not in (O_RDONLY, O_WRONLY, O_RDWR):
            raise InputError("reopen flags must be O_RDONLY (0), O_WRONLY (1) or O_RDWR (2)")
        mode = {O_RDONLY: FMODE_READ, O_WRONLY: FMODE_WRITE, O_RDWR: FMODE_READ | FMODE_WRITE}[flags]
        return self.install_fd(self.new_file(f.f_inode, f.f_op, mode))

    def close(self, fd) -> int:
        from .file_ops import fput
        f = self.fds.pop(_fd(fd), None)
        if f is None:
            return -Errno.EBADF
        fput(f)
        return 0

    def open_driver(self, spec) -> int:
        """Open a model driver's file (see mmviz.model.drivers.DriverSpec); returns the fd."""
        from .drivers import open_driver
        return open_driver(self, spec)

    # --- views ------------------------------------------------------------------------------------

    def vmas(self, start=0, end=None) -> list:
        start = _ulong("start", start)
        end = self.mm.task_size if end is None else _ulong("end", end)
        return self.mm.mm_mt.range(start, end)

    def proc_maps(self, start=0, end=None) -> str:
        """The address space as /proc/PID/maps text (optionally only VMAs overlapping [start, end))."""
        from .proc_maps import proc_maps_lines
        start = _ulong("start", start)
        end = None if end is None else _ulong("end", end)
        lines = proc_maps_lines(self.mm, start, end)
        return "".join(line + "\n" for line in lines)

    def validate(self) -> None:
        from .validate import validate_mm
        validate_mm(self)

    def smaps_flags(self, start=0, end=None) -> list:
        """The VmFlags mnemonics of /proc/PID/smaps for every VMA overlapping [start, end):
        [(vm_start, vm_end, ["rd", "wr", ...]), ...]."""
        from .proc_maps import show_smap_vma_flags
        start = _ulong("start", start)
        end = self.mm.task_size if end is None else _ulong("end", end)
        return [(v.vm_start, v.vm_end, show_smap_vma_flags(v))
                for v in self.mm.mm_mt.range(start, end)]

    @classmethod
    def from_maps(cls, text: str, **kwargs) -> "World":
        """Load a real /proc/PID/maps into a new world (files by device and inode)."""
        from .loader import load_maps
        return load_maps(cls(**kwargs), text)


def _copy_process_docs():
    from .process import PROCESS_CALLS, Process
    for name in PROCESS_CALLS:
        getattr(Process, name).__doc__ = getattr(World, name).__doc__


_copy_process_docs()
