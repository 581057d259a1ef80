"""Ask the real kernel: replay a few mmap/munmap/mprotect calls in this process and read
/proc/self/maps, so a lesson can set the model's answer beside Linux's own.

Standard library only, and independent of the model: a lesson runs the same small script
on a `mmviz.World()` and on a `LiveWindow()` (both have `mmap`, `munmap`, `mprotect`,
`touch`, `memfd_create`, `ftruncate`, `dup`, `reopen` and `proc_maps`) and compares the two
maps views with `compare()`.

Only on Linux (`available()` says why not elsewhere). The calls never leave a private
window of the notebook's own address space:

* the window sits at a fixed address, 17 TiB, far below where Linux puts libraries and
  the heap (near 128 TiB and just above the executable) and away from the 16 TiB window
  of the test suite. Its whole extent is claimed with MAP_FIXED_NOREPLACE first, so it
  never replaces anything; if something is there the window moves up;
* each side has a one-page guard: a PROT_NONE shared mapping of a memfd of its own, so
  nothing inside can merge with anything outside;
* mmap must be MAP_FIXED or MAP_FIXED_NOREPLACE and every call's range must lie inside the
  window, or ValueError is raised before the kernel sees it;
* `touch` writes one byte only where a fresh maps read shows a writable mapping, and, for a
  memfd, only below the size this window gave it (beyond it the process would get SIGBUS).
"""

from __future__ import annotations

import ctypes
import errno as _errno
import os
import sys

PAGE_SIZE = 4096
WINDOW_BASE = 0x1100_0000_0000          # 17 TiB
_STEP = 1 << 32                          # move up 4 GiB if the extent is taken
_TRIES = 16
_U64 = 1 << 64

_PROT_NONE, _PROT_READ, _PROT_WRITE = 0, 1, 2
_MAP_SHARED, _MAP_PRIVATE, _MAP_FIXED, _MAP_ANONYMOUS = 0x01, 0x02, 0x10, 0x20
_MAP_FIXED_NOREPLACE = 0x100000
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


def _page_up(n: int) -> int:
    return (n + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)


def _read_maps() -> list:
    with open("/proc/self/maps") as f:
        return f.read().splitlines()


def _parse(line: str) -> dict:
    fields = line.split(None, 5)
    start, end = (int(x, 16) for x in fields[0].split("-"))
    return {"start": start, "end": end, "perms": fields[1], "offset": int(fields[2], 16),
            "inode": int(fields[4]), "name": fields[5].strip() if len(fields) > 5 else ""}


class LiveWindow:
    """A private stretch of this process's address space where the real kernel answers.

    Addresses are absolute, as in `World`; `base` is the first usable address. Results
    follow the system calls: mmap gives the address or -errno, the others 0 or -errno.
    """

    def __init__(self, pages: int = 32, base: int = WINDOW_BASE):
        ok, why = available()
        if not ok:
            raise Unavailable(why)
        if not 0 < pages <= 4096:
            raise ValueError("a live window has 1 to 4096 pages")
        self._libc = load_libc()
        self.size = pages * PAGE_SIZE
        self._fds: dict = {}            # fd -> inode number, for every fd this window made
        self._sizes: dict = {}          # inode number -> file size in bytes
        self._guards: list = []
        self._claimed = False
        self.base = self._claim(base)
        self._claimed = True
        self.end = self.base + self.size
        try:
            for at in (self.base - PAGE_SIZE, self.end):
                fd = os.memfd_create("mmviz-live-guard")
                os.ftruncate(fd, PAGE_SIZE)
                self._guards.append(fd)
                if self._mmap(at, PAGE_SIZE, _PROT_NONE, _MAP_SHARED | _MAP_FIXED, fd, 0) != at:
                    raise Unavailable("could not place the window's guard pages")
            self._munmap(self.base, self.size)
        except BaseException:
            self.close()
            raise

    # --- raw calls ---------------------------------------------------------------------------

    def _mmap(self, addr, length, prot, flags, fd=-1, offset=0) -> int:
        ctypes.set_errno(0)
        ret = self._libc.mmap(addr, length, prot, flags, fd, offset)
        if ret is None:
            return 0
        if ret == _U64 - 1:
            return -ctypes.get_errno()
        return ret

    def _munmap(self, addr, length) -> int:
        ctypes.set_errno(0)
        return 0 if self._libc.munmap(addr, length) == 0 else -ctypes.get_errno()

    def _claim(self, base) -> int:
        extent = self.size + 2 * PAGE_SIZE
        for i in range(_TRIES):
            lo = base + i * _STEP - PAGE_SIZE
            got = self._mmap(lo, extent, _PROT_NONE,
                             _MAP_PRIVATE | _MAP_ANONYMOUS | _MAP_FIXED_NOREPLACE)
            if got == lo:
                return lo + PAGE_SIZE
            if got > 0:                   # a kernel older than 4.17 took the flag as a hint
                self._munmap(got, extent)
                raise Unavailable("this kernel ignores MAP_FIXED_NOREPLACE (Linux 4.17+ needed)")
        raise Unavailable("no free window found near 17 TiB")

    # --- checks --------------------------------------------------------------------------------

    def _inside(self, addr, length, what):
        if not isinstance(addr, int) or not isinstance(length, int):
            raise ValueError(f"{what}: addr and length must be integers")
        if length <= 0 or addr % PAGE_SIZE:
            raise ValueError(f"{what}: the live window only passes page-aligned calls with a "
                             "positive length")
        if not (self.base <= addr and addr + _page_up(length) <= self.end):
            raise ValueError(f"{what}: [{addr:#x}, {addr + length:#x}) is outside the live "
                             f"window [{self.base:#x}, {self.end:#x})")

    def _check_open(self):
        if not self._claimed:
            raise ValueError("this live window is closed")

    # --- the World-like face -----------------------------------------------------------------

    def mmap(self, addr, length, prot, flags, fd=-1, offset=0) -> int:
        self._check_open()
        if not flags & (_MAP_FIXED | _MAP_FIXED_NOREPLACE):
            raise ValueError("mmap in the live window needs MAP_FIXED or MAP_FIXED_NOREPLACE, "
                             "so the kernel never chooses an address outside it")
        self._inside(addr, length, "mmap")
        if not flags & _MAP_ANONYMOUS and fd not in self._fds:
            raise ValueError("map only files this window made (memfd_create, dup, reopen)")
        return self._mmap(addr, length, prot, flags, fd, offset)

    def munmap(self, addr, length) -> int:
        self._check_open()
        self._inside(addr, length, "munmap")
        return self._munmap(addr, length)

    def mprotect(self, addr, length, prot) -> int:
        self._check_open()
        self._inside(addr, length, "mprotect")
        ctypes.set_errno(0)
        return 0 if self._libc.mprotect(addr, length, prot) == 0 else -ctypes.get_errno()

    def touch(self, addr) -> int:
        """Write one byte at addr (a write fault), where that is safe; else -EFAULT."""
        self._check_open()
        self._inside(addr & ~(PAGE_SIZE - 1), PAGE_SIZE, "touch")
        for line in _read_maps():
            e = _parse(line)
            if e["start"] <= addr < e["end"]:
                if e["perms"][1] != "w":
                    return -_errno.EFAULT
                if e["inode"]:
                    size = self._sizes.get(e["inode"])
                    page = (addr - e["start"] + e["offset"]) // PAGE_SIZE
                    if size is None or page * PAGE_SIZE >= size:
                        return -_errno.EFAULT
                ctypes.memset(addr, 1, 1)
                return 0
        return -_errno.EFAULT

    def memfd_create(self, name: str) -> int:
        self._check_open()
        fd = os.memfd_create(name)
        self._fds[fd] = os.fstat(fd).st_ino
        return fd

    def ftruncate(self, fd, size) -> int:
        if fd not in self._fds:
            raise ValueError("ftruncate only files this window made")
        try:
            os.ftruncate(fd, size)
        except OSError as e:
            return -e.errno
        self._sizes[self._fds[fd]] = size
        return 0

    def dup(self, fd) -> int:
        if fd not in self._fds:
            raise ValueError("dup only files this window made")
        new = os.dup(fd)
        self._fds[new] = self._fds[fd]
        return new

    def reopen(self, fd, flags=_O_RDWR) -> int:
        """A new open file of the same memfd, through /proc/self/fd/N (no merging across)."""
        if fd not in self._fds:
            raise ValueError("reopen only files this window made")
        if flags not in (_O_RDONLY, _O_WRONLY, _O_RDWR):
            raise ValueError("reopen flags must be O_RDONLY, O_WRONLY or O_RDWR")
        new = os.open(f"/proc/self/fd/{fd}", flags)
        self._fds[new] = self._fds[fd]
        return new

    def proc_maps(self, start=None, end=None) -> str:
        """The real /proc/self/maps lines of the window (or of [start, end) within it)."""
        start = self.base if start is None else max(start, self.base)
        end = self.end if end is None else min(end, self.end)
        out = []
        for line in _read_maps():
            e = _parse(line)
            if e["start"] < end and e["end"] > start:
                out.append(line + "\n")
        return "".join(out)

    # --- lifetime ------------------------------------------------------------------------------

    def reset(self) -> None:
        """Unmap everything inside the window (the guards stay)."""
        self._check_open()
        self._munmap(self.base, self.size)

    def close(self) -> None:
        if self._claimed:
            self._claimed = False
            self._munmap(self.base - PAGE_SIZE, self.size + 2 * PAGE_SIZE)
        for fd in list(self._fds) + self._guards:
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds.clear()
        self._guards = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def rows(maps_text: str, base: int) -> list:
    """Maps lines as comparable rows: (first page, end page, perms, what) relative to base.

    `what` is 'anon', or the file name (without ' (deleted)') and its offset in pages; the
    device and inode numbers differ between model and kernel and are left out.
    """
    out = []
    for line in maps_text.splitlines():
        if not line.strip():
            continue
        e = _parse(line)
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
