"""Ask the real kernel: drive mmap/munmap/mprotect in a private window of this process and
read /proc/self/maps, so the model's answer can be set beside Linux's own.

Standard library only (plus the model's maps parser and ABI numbers), and the one place
mmviz drives the real kernel through ctypes:

- `KernelWindow` is the harness of the differential tests (`tests/oracle/kernel_window.py`
  re-exports it): any fd, any flag bits, calls the kernel rejects before touching a mapping;
- `LiveWindow` is the lessons' face of the same window: a World-like API (`mmap`, `munmap`,
  `mprotect`, `touch`, `memfd_create`, `ftruncate`, `dup`, `reopen`, `proc_maps`) with
  stricter checks, and `compare()` runs one small script on a `mmviz.World()` and on it.

Only on Linux (`available()` says why not elsewhere). The tests' window sits at 16 TiB,
the lessons' at 17 TiB, so a notebook's check never meets a running test's.

Layout (``P`` = 4096)::

    base-P        base                          base+size     base+size+P
      | lo guard  |   interior: the test window    | hi guard  |

Why it is built this way:

* The window sits at a fixed, low address (16 TiB by default), far from where the
  kernel places ``mmap(NULL, ...)`` mappings (just below the stack, near 128 TiB), so the
  Python allocator and shared libraries never land in it.  The extent is probed with
  MAP_FIXED_NOREPLACE first; if something is already there the window moves up 4 GiB.
* Each guard is a PROT_NONE MAP_SHARED mapping of its own memfd.  A distinct file per
  guard means no test mapping can ever merge with a guard (an anonymous PROT_NONE
  neighbour would merge with a PROT_NONE anonymous test mapping and change the answer),
  and the guards give every test VMA at the window edges a fixed, non-mergeable
  neighbour, just like the middle of a real address space.
* ``reset`` is a single munmap of the interior, so the guards stay put between cases.

Safety rule for mmap, munmap and mprotect (all addresses are absolute).  A call reaches
the kernel only if it cannot change anything outside the interior ``[base, base+size)``:

1. ``addr`` must be a non-negative address below 2**64 (else ValueError).
2. mmap must carry MAP_FIXED or MAP_FIXED_NOREPLACE, so the kernel never picks the
   address itself (else ValueError).
3. The call is passed when one of these holds (else ValueError):

   a. the range the kernel will act on, ``[addr, addr + PAGE_ALIGN(length))`` with
      ``length`` taken as the kernel's unsigned size_t, lies inside the interior;
   b. ``addr`` is inside the interior and the kernel rejects the call before looking at
      any mapping: ``addr`` not page aligned (EINVAL from all three), ``length`` 0 or so
      large that PAGE_ALIGN wraps to 0 (mmap/munmap fail, mprotect is a no-op or
      ENOMEM), or ``addr + PAGE_ALIGN(length)`` wraps past 2**64 (e.g. a negative
      length);
   c. mmap or munmap only, any ``addr``: the range ends above the top of the user
      address space (TASK_SIZE, measured at start-up).  Both syscalls check that before
      touching a mapping (ENOMEM resp. EINVAL).  mprotect gets no such exception: it
      applies the new protection VMA by VMA and only reports ENOMEM when it meets a
      hole, so a range running out of the window could change the guard and beyond.

   Bad fds, bad offsets and bad flag bits are not filtered: with the address range
   confined as above they can only make a call fail or map inside the window.

Safety rule for ``touch`` (write one byte) and ``read`` (read one byte): the address
must be inside the interior, covered by a VMA in a fresh /proc/self/maps read that has
the needed permission ('w' resp. 'r'), and, for a file mapping, the page's file offset
must be below the file's size (past EOF is SIGBUS).  File sizes come from the harness's
own records, so only anonymous mappings, shared-anonymous mappings and files opened
through this harness can be touched; anything else raises ValueError rather than
risking a fatal signal for the whole test process.

File descriptors: ``memfd_create``, ``dup`` and ``reopen`` return fds the harness owns;
``ftruncate``, ``dup``, ``reopen`` and ``close_fd`` only accept those (ValueError
otherwise) so a test can never truncate or close a descriptor of the test runner.  mmap
takes any fd number, because a bad or closed fd is a useful test input.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import sys

from .model.errors import InputError
from .model.proc_maps import parse_maps_line
from .model.uapi import (MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_NORESERVE,
                         MAP_PRIVATE, MAP_SHARED, PAGE_SIZE, PROT_NONE)

TEST_WINDOW_BASE = 0x1000_0000_0000      # 16 TiB: the differential tests' window
WINDOW_BASE = 0x1100_0000_0000           # 17 TiB: the lessons' window
_U64 = 1 << 64
_MAP_FAILED = _U64 - 1
_RELOCATE_STEP = 4 << 30  # how far to move the window when its extent is occupied
_RELOCATE_TRIES = 16
_O_RDONLY, _O_WRONLY, _O_RDWR = 0, 1, 2


class Unavailable(RuntimeError):
    """The live check cannot run here (not Linux, no memfd, unusual page size...)."""


def available() -> tuple:
    """(True, '') where a LiveWindow can be opened; otherwise (False, the reason)."""
    if sys.platform != "linux":
        return False, (f"this notebook runs on {sys.platform}, not Linux: the live check needs "
                       "a Linux kernel, so only the model's answer is shown")
    if not hasattr(os, "memfd_create"):
        return False, "this Python has no os.memfd_create (Linux 3.17+, Python 3.8+ needed)"
    try:
        if os.sysconf("SC_PAGE_SIZE") != PAGE_SIZE:
            return False, "the live check assumes 4 KiB pages, like the model"
    except (ValueError, OSError):
        return False, "cannot read the page size"
    if not os.path.exists("/proc/self/maps"):
        return False, "/proc is not mounted, so the kernel's view cannot be read"
    return True, ""


def load_libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long)
    libc.munmap.restype = ctypes.c_int
    libc.munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
    libc.mprotect.restype = ctypes.c_int
    libc.mprotect.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    return libc


def _page_align(n: int) -> int:
    """The kernel's PAGE_ALIGN on an unsigned long: may wrap to 0 for huge n."""
    return (n + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1) & (_U64 - 1)


def _to_c_int(value: int) -> int:
    """Reinterpret a Python int as the C int the kernel receives (flags, prot, fd)."""
    value &= 0xFFFF_FFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def _to_c_long(value: int) -> int:
    value &= _U64 - 1
    return value - _U64 if value >= 1 << 63 else value


def _read_maps() -> list[str]:
    # Lines end at "\n" only: a file name may hold "\r", "\x85" or U+2028 (only "\n" is
    # escaped by the kernel), which splitlines() or universal newlines would break apart.
    with open("/proc/self/maps", encoding="utf-8", errors="surrogateescape", newline="") as f:
        return f.read().split("\n")[:-1]


class KernelWindow:
    """A private range of this process's address space for driving the real kernel.

    See the module docstring for the layout and the safety rules.  Results follow the
    model's World: mmap returns the address or -errno, munmap/mprotect 0 or -errno.
    """

    page_size = PAGE_SIZE
    guard_name = "mmviz-guard"

    def __init__(self, pages: int = 64, base: int = TEST_WINDOW_BASE):
        if os.sysconf("SC_PAGE_SIZE") != PAGE_SIZE:
            raise RuntimeError("KernelWindow assumes 4 KiB pages")
        if pages <= 0 or base % PAGE_SIZE or base <= PAGE_SIZE:
            raise ValueError("need pages > 0 and a page-aligned base above the first page")
        self._libc = load_libc()
        self.size = pages * PAGE_SIZE
        self._fds: set[int] = set()
        # ((major, minor), inode) -> file size, for every file the harness made.
        self._file_sizes: dict[tuple[tuple[int, int], int], int] = {}
        self._closed = True
        self.user_top = self._probe_user_top()
        self.base = self._reserve(base)
        self.end = self.base + self.size
        self.lo_guard = self.base - PAGE_SIZE
        self.hi_guard = self.base + self.size
        self._closed = False
        try:
            self._install_guards()
        except BaseException:
            self.close()
            raise

    # ----------------------------------------------------------------- setup

    def _raw_mmap(self, addr: int, length: int, prot: int, flags: int, fd: int = -1,
                  offset: int = 0) -> int:
        ctypes.set_errno(0)
        ret = self._libc.mmap(addr, length & (_U64 - 1), _to_c_int(prot), _to_c_int(flags),
                              _to_c_int(fd), _to_c_long(offset))
        if ret is None:  # c_void_p turns address 0 into None
            return 0
        if ret == _MAP_FAILED:
            return -ctypes.get_errno()
        return ret

    def _raw_munmap(self, addr: int, length: int) -> int:
        ctypes.set_errno(0)
        if self._libc.munmap(addr, length & (_U64 - 1)) == 0:
            return 0
        return -ctypes.get_errno()

    def _probe_user_top(self) -> int | None:
        """TASK_SIZE, the top of the user address space, or None if unknown.

        Only x86-64 is probed: 2**47 - 4096 with 4-level paging, 2**56 - 4096 with
        5-level paging.  A NOREPLACE mapping of the page at 2**47 tells them apart: it
        fails with ENOMEM only if that page is beyond TASK_SIZE, and it can never
        replace anything.
        """
        if platform.machine() != "x86_64":
            return None
        ret = self._raw_mmap(1 << 47, PAGE_SIZE, PROT_NONE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE)
        if ret == -errno.ENOMEM:
            return (1 << 47) - PAGE_SIZE
        if ret == 1 << 47:
            self._raw_munmap(ret, PAGE_SIZE)
        return (1 << 56) - PAGE_SIZE

    def _reserve(self, base: int) -> int:
        """Claim [base - P, base + size + P) with one NOREPLACE mapping; return base.

        The reservation holds the extent while the guards are put over its two ends;
        the interior is then unmapped.
        """
        flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE
        extent = self.size + 2 * PAGE_SIZE
        for _ in range(_RELOCATE_TRIES):
            if self.user_top is not None and base + self.size + PAGE_SIZE > self.user_top:
                break
            ret = self._raw_mmap(base - PAGE_SIZE, extent, PROT_NONE, flags)
            if ret == base - PAGE_SIZE:
                return base
            if ret >= 0:  # a kernel without NOREPLACE treats it as a hint: give it back
                self._raw_munmap(ret, extent)
                raise OSError("kernel ignored MAP_FIXED_NOREPLACE")
            if ret != -errno.EEXIST:
                raise OSError(-ret, f"cannot reserve the window: {os.strerror(-ret)}")
            base += _RELOCATE_STEP
        raise OSError(errno.ENOMEM, "no free extent found for the window")

    def _install_guards(self) -> None:
        for name, addr in ((f"{self.guard_name}-lo", self.lo_guard),
                           (f"{self.guard_name}-hi", self.hi_guard)):
            fd = os.memfd_create(name, os.MFD_CLOEXEC)
            try:
                os.ftruncate(fd, PAGE_SIZE)
                ret = self._raw_mmap(addr, PAGE_SIZE, PROT_NONE, MAP_SHARED | MAP_FIXED, fd, 0)
            finally:
                os.close(fd)  # the mapping keeps the file alive; nobody else can reach it
            if ret != addr:
                raise OSError(-ret, f"cannot map guard page at {addr:#x}")
        ret = self._raw_munmap(self.base, self.size)
        if ret:
            raise OSError(-ret, "cannot clear the window interior")

    # ------------------------------------------------------------ lifecycle

    def reset(self) -> None:
        """Unmap the whole interior and close the test files' fds; the guards stay."""
        self._check_open()
        ret = self._raw_munmap(self.base, self.size)
        if ret:
            raise OSError(-ret, "munmap of the window interior failed")
        self._close_fds()

    def close(self) -> None:
        """Unmap interior and guards and close every fd; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._raw_munmap(self.lo_guard, self.size + 2 * PAGE_SIZE)
        self._close_fds()

    def __enter__(self) -> "KernelWindow":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _close_fds(self) -> None:
        for fd in self._fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds.clear()
        self._file_sizes.clear()

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"this {type(self).__name__} is closed")

    # ------------------------------------------------------------- syscalls

    def _vet_range(self, call: str, addr: int, length: int) -> None:
        """Raise ValueError unless the call is confined to the window (module docstring)."""
        self._check_open()
        if not isinstance(addr, int) or not isinstance(length, int):
            raise TypeError("addr and length must be ints")
        if not 0 <= addr < _U64:
            raise ValueError(f"{call}: address {addr:#x} is not a user pointer")
        alen = _page_align(length & (_U64 - 1))
        end = addr + alen  # not reduced mod 2**64: > 2**64 means the kernel's end wraps
        lo, hi = self.base, self.base + self.size
        if lo <= addr and end <= hi:
            return  # rule a
        if lo <= addr < hi and (addr % PAGE_SIZE or alen == 0 or end >= _U64):
            return  # rule b
        if call != "mprotect" and self.user_top is not None and end > self.user_top:
            return  # rule c
        raise ValueError(f"{call}: [{addr:#x}, {end:#x}) leaves the window "
                         f"[{lo:#x}, {hi:#x})")

    def mmap(self, addr: int, length: int, prot: int, flags: int, fd: int = -1,
             offset: int = 0) -> int:
        """mmap(2) with MAP_FIXED or MAP_FIXED_NOREPLACE; the address or -errno."""
        if not flags & (MAP_FIXED | MAP_FIXED_NOREPLACE):
            raise ValueError("mmap: only MAP_FIXED / MAP_FIXED_NOREPLACE calls are allowed")
        self._vet_range("mmap", addr, length)
        return self._raw_mmap(addr, length, prot, flags, fd, offset)

    def munmap(self, addr: int, length: int) -> int:
        """munmap(2): 0 or -errno."""
        self._vet_range("munmap", addr, length)
        return self._raw_munmap(addr, length)

    def mprotect(self, addr: int, length: int, prot: int) -> int:
        """mprotect(2): 0 or -errno (note: a failure may leave part of the range changed)."""
        self._vet_range("mprotect", addr, length)
        ctypes.set_errno(0)
        if self._libc.mprotect(addr, length & (_U64 - 1), _to_c_int(prot)) == 0:
            return 0
        return -ctypes.get_errno()

    # ---------------------------------------------------------- page access

    def _vet_access(self, addr: int, perm: str) -> None:
        """Raise ValueError unless accessing the byte at addr cannot raise a fatal signal."""
        self._check_open()
        if not self.base <= addr < self.base + self.size:
            raise ValueError(f"{addr:#x} is outside the window")
        entry = next((e for e in self.maps_entries() if e["start"] <= addr < e["end"]), None)
        if entry is None:
            raise ValueError(f"{addr:#x} is not mapped (would SIGSEGV)")
        if perm not in entry["perms"]:
            raise ValueError(f"{addr:#x} is mapped {entry['perms']} (would SIGSEGV)")
        if entry["inode"] == 0:
            return  # private anonymous memory
        if entry["name"] == "/dev/zero (deleted)":
            # MAP_SHARED|MAP_ANONYMOUS: a shmem file exactly as long as the original
            # mapping, and a VMA can only shrink inside it, so every page is backed.
            return
        size = self._file_sizes.get((entry["dev"], entry["inode"]))
        if size is None:
            raise ValueError(f"{addr:#x} maps a file the harness does not know "
                             f"({entry['name']!r}); cannot prove it is inside the file")
        page_offset = entry["offset"] + (addr - addr % PAGE_SIZE - entry["start"])
        if page_offset >= size:
            raise ValueError(f"{addr:#x} is at file offset {page_offset:#x}, past the end "
                             f"of the file (size {size:#x}): would SIGBUS")

    def touch(self, addr: int, value: int = 0x78) -> int:
        """Write one byte at addr (a write fault, as a program's store would); returns 0."""
        self._vet_access(addr, "w")
        ctypes.c_ubyte.from_address(addr).value = value & 0xFF
        return 0

    def read(self, addr: int) -> int:
        """Read one byte at addr (a read fault); returns the byte's value."""
        self._vet_access(addr, "r")
        return ctypes.c_ubyte.from_address(addr).value

    # ---------------------------------------------------------------- files

    def _file_key(self, fd: int) -> tuple[tuple[int, int], int]:
        st = os.fstat(fd)
        return (os.major(st.st_dev), os.minor(st.st_dev)), st.st_ino

    def _own(self, fd: int) -> None:
        self._check_open()
        if fd not in self._fds:
            raise ValueError(f"fd {fd} was not opened by this {type(self).__name__}")

    def _adopt(self, fd: int) -> int:
        self._fds.add(fd)
        key = self._file_key(fd)
        self._file_sizes[key] = os.fstat(fd).st_size
        return fd

    def memfd_create(self, name: str) -> int:
        """A new empty memfd (size 0) owned by the harness; returns its fd."""
        self._check_open()
        return self._adopt(os.memfd_create(name, os.MFD_CLOEXEC))

    def ftruncate(self, fd: int, size: int) -> int:
        """ftruncate(2) on a harness fd: 0 or -errno; the harness tracks the new size."""
        self._own(fd)
        try:
            os.ftruncate(fd, size)
        except OSError as e:
            return -e.errno
        self._file_sizes[self._file_key(fd)] = os.fstat(fd).st_size
        return 0

    def dup(self, fd: int) -> int:
        """dup(2): a new fd sharing the same open file (same struct file)."""
        self._own(fd)
        return self._adopt(os.dup(fd))

    def reopen(self, fd: int, writable: bool = True) -> int:
        """A new open file (new struct file) of the same inode, O_RDWR or O_RDONLY."""
        self._own(fd)
        mode = os.O_RDWR if writable else os.O_RDONLY
        return self._adopt(os.open(f"/proc/self/fd/{fd}", mode | os.O_CLOEXEC))

    def close_fd(self, fd: int) -> int:
        """close(2) on a harness fd: 0 or -errno.  Mappings of the file stay valid."""
        self._own(fd)
        self._fds.discard(fd)
        try:
            os.close(fd)
        except OSError as e:
            return -e.errno
        return 0

    # ------------------------------------------------------------------ maps

    def maps(self) -> list[str]:
        """The /proc/self/maps lines of VMAs intersecting the interior, in address order."""
        self._check_open()
        lo, hi = self.base, self.base + self.size
        out = []
        for line in _read_maps():
            start, end = (int(x, 16) for x in line.split(None, 1)[0].split("-"))
            if start < hi and end > lo:
                out.append(line)
        return out

    def maps_entries(self) -> list[dict]:
        """maps(), parsed by the model's parser: start, end, perms, offset, dev (major,
        minor), inode, name."""
        return [parse_maps_line(line) for line in self.maps()]

    def guard_lines(self) -> list[str]:
        """The maps lines of the two guard pages (for checking they are untouched)."""
        self._check_open()
        wanted = {self.lo_guard, self.hi_guard}
        return [line for line in _read_maps()
                if int(line.split("-", 1)[0], 16) in wanted]


class LiveWindow(KernelWindow):
    """The lessons' window: the same harness with a World-like face and stricter checks.

    Addresses are absolute, as in `World`; `base` is the first usable address. Results
    follow the system calls: mmap gives the address or -errno, the others 0 or -errno.
    Every call must lie inside the window, page-aligned with a positive length; mmap must be
    MAP_FIXED or MAP_FIXED_NOREPLACE and map only files this window made; `touch` writes
    only where a fresh maps read shows a writable mapping backed below the file's size, and
    answers -EFAULT (never a fatal signal) elsewhere.
    """

    guard_name = "mmviz-live-guard"

    def __init__(self, pages: int = 32, base: int = WINDOW_BASE):
        ok, why = available()
        if not ok:
            raise Unavailable(why)
        if not 0 < pages <= 4096:
            raise ValueError("a live window has 1 to 4096 pages")
        try:
            super().__init__(pages, base)
        except OSError as e:
            raise Unavailable(f"no live window near {base >> 40} TiB: {e}") from None

    def _inside(self, addr, length, what):
        if not isinstance(addr, int) or not isinstance(length, int):
            raise ValueError(f"{what}: addr and length must be integers")
        if length <= 0 or addr % PAGE_SIZE:
            raise ValueError(f"{what}: the live window only passes page-aligned calls with a "
                             "positive length")
        if not (self.base <= addr and addr + _page_align(length) <= self.end):
            raise ValueError(f"{what}: [{addr:#x}, {addr + length:#x}) is outside the live "
                             f"window [{self.base:#x}, {self.end:#x})")

    def mmap(self, addr, length, prot, flags, fd=-1, offset=0) -> int:
        self._check_open()
        if not flags & (MAP_FIXED | MAP_FIXED_NOREPLACE):
            raise ValueError("mmap in the live window needs MAP_FIXED or MAP_FIXED_NOREPLACE, "
                             "so the kernel never chooses an address outside it")
        self._inside(addr, length, "mmap")
        if not flags & MAP_ANONYMOUS and fd not in self._fds:
            raise ValueError("map only files this window made (memfd_create, dup, reopen)")
        return super().mmap(addr, length, prot, flags, fd, offset)

    def munmap(self, addr, length) -> int:
        self._check_open()
        self._inside(addr, length, "munmap")
        return super().munmap(addr, length)

    def mprotect(self, addr, length, prot) -> int:
        self._check_open()
        self._inside(addr, length, "mprotect")
        return super().mprotect(addr, length, prot)

    def touch(self, addr, value: int = 1) -> int:
        """Write one byte at addr (a write fault), where that is safe; else -EFAULT."""
        self._check_open()
        self._inside(addr & ~(PAGE_SIZE - 1), PAGE_SIZE, "touch")
        try:
            return super().touch(addr, value)
        except ValueError:              # unmapped, read-only, or past the end of its file
            return -errno.EFAULT

    def reopen(self, fd, flags=_O_RDWR) -> int:
        """A new open file of the same memfd, through /proc/self/fd/N (no merging across)."""
        if flags not in (_O_RDONLY, _O_WRONLY, _O_RDWR):
            raise ValueError("reopen flags must be O_RDONLY, O_WRONLY or O_RDWR")
        self._own(fd)
        return self._adopt(os.open(f"/proc/self/fd/{fd}", flags | os.O_CLOEXEC))

    def proc_maps(self, start=None, end=None) -> str:
        """The real /proc/self/maps lines of the window (or of [start, end) within it)."""
        start = self.base if start is None else max(start, self.base)
        end = self.end if end is None else min(end, self.end)
        return "".join(line + "\n" for line in self.maps()
                       if _span(line)[0] < end and _span(line)[1] > start)


def _span(line):
    start, end = (int(x, 16) for x in line.split(None, 1)[0].split("-"))
    return start, end


def rows(maps_text: str, base: int) -> list:
    """Maps lines as comparable rows: (first page, end page, perms, what) relative to base.

    `what` is 'anon', or the file name (without ' (deleted)') and its offset in pages; the
    device and inode numbers differ between model and kernel and are left out.
    """
    out = []
    for line in maps_text.split("\n"):
        if not line.strip():
            continue
        try:
            e = parse_maps_line(line)
        except InputError:
            continue
        name = e["name"].removesuffix(" (deleted)")
        what = f"{name}@{e['offset'] // PAGE_SIZE}" if e["inode"] else (name or "anon")
        out.append(((e["start"] - base) // PAGE_SIZE, (e["end"] - base) // PAGE_SIZE,
                    e["perms"], what))
    return out


class Comparison:
    """The model's and the kernel's rows side by side; `same` says whether they agree."""

    def __init__(self, model_rows, kernel_rows, note=""):
        self.model = model_rows
        self.kernel = kernel_rows
        self.note = note

    @property
    def same(self) -> bool:
        return self.kernel is not None and self.model == self.kernel

    def table(self) -> str:
        def fmt(r):
            return f"[{r[0]:>2},{r[1]:>2}) {r[2]} {r[3]}"
        left = [fmt(r) for r in self.model]
        right = [fmt(r) for r in self.kernel] if self.kernel is not None else [self.note]
        width = max([len(s) for s in left] + [len("model (pages from base)")]) + 3
        lines = [f"{'model (pages from base)':<{width}}real kernel"]
        for i in range(max(len(left), len(right))):
            a = left[i] if i < len(left) else ""
            b = right[i] if i < len(right) else ""
            lines.append(f"{a:<{width}}{b}")
        if self.kernel is not None:
            lines.append("agree" if self.same else "DIFFER")
        return "\n".join(lines)

    def __repr__(self):
        return self.table()

    def _repr_html_(self):
        import html
        return "<pre class='mmviz-live'>" + html.escape(self.table()) + "</pre>"


def compare(script, world, pages: int = 32) -> Comparison:
    """Run `script(system, base)` on `world` (a mmviz.World) and on a fresh LiveWindow.

    `script` receives the object to call (`world` or the window) and the window's first
    address, and must use the same calls on both. Where the live check is not available,
    the comparison carries the model's rows and the reason instead of the kernel's.
    """
    ok, why = available()
    if not ok:
        base = WINDOW_BASE
        script(world, base)
        return Comparison(rows(world.proc_maps(base, base + pages * PAGE_SIZE), base), None, why)
    with LiveWindow(pages) as win:
        script(win, win.base)
        kernel = rows(win.proc_maps(), win.base)
        script(world, win.base)
        model = rows(world.proc_maps(win.base, win.end), win.base)
    return Comparison(model, kernel)
