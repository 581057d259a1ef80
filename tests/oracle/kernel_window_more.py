"""The rest of the address-space calls on the kernel window, run in a small server process.

`KernelWindowMore` extends `KernelWindow` (tests/oracle/kernel_window.py, used only
through its public methods) with mremap, madvise, mlock, mlock2, munlock, a byte load,
the window's /proc/self/smaps VmFlags and VmLck, each vetted so that the kernel can never
act outside the window (see `_vet_*` below).

`WindowServer` runs one in a fresh Python process (few VMAs of its own, so /proc/self/smaps
is quick to read, and a mistake cannot take the test runner down) and drives it with one
JSON line per call. After every call the server answers with the result and the window's
state: every VMA's maps fields and VmFlags, and VmLck. `fork` forks the server: the child
answers the following calls until `exit`, while the parent waits for it (os.waitpid),
so a sequence can run calls in a child, a grandchild, and back in the parent. `limits`
drops CAP_IPC_LOCK and sets RLIMIT_MEMLOCK, which only a forked child should do.

Safety rules (addresses absolute, lengths as the kernel's size_t):
* mremap: addr inside the window; the old range [addr, addr + PAGE_ALIGN(old_len)) inside
  the window; with MREMAP_FIXED or MREMAP_DONTUNMAP the new range inside the window, and
  without MREMAP_FIXED it must also be free in the current maps (the kernel then takes the
  hint); without a new address a growth must fit inside the window and, with
  MREMAP_MAYMOVE, be possible in place (the VMA at addr ends at addr + old_len and the
  growth is free), so the kernel never picks an address itself. A result outside the
  window is unmapped at once and reported as an error.
* madvise, mlock, mlock2, munlock: the page range inside the window; only the advice the
  model simulates (or invalid advice).
* load: as KernelWindow.read.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import struct
import subprocess
import sys

from mmviz.model.uapi import PAGE_SIZE
from oracle.kernel_window import KernelWindow, parse_maps_line

_U64 = 1 << 64
_SYS = {"mremap": 25, "madvise": 28, "mlock": 149, "munlock": 150, "mlock2": 325,
        "capget": 125, "capset": 126}
MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP = 1, 2, 4
# Advice the model simulates (mmviz.model.madvise); anything else valid is refused here.
MODELLED_ADVICE = {0, 1, 2, 3, 4, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 24}
VALID_ADVICE = MODELLED_ADVICE | {8, 9, 22, 23, 25, 102, 103}
CAP_IPC_LOCK = 14


def _page_align(n: int) -> int:
    return (n + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1) & (_U64 - 1)


class KernelWindowMore(KernelWindow):
    """KernelWindow plus mremap, madvise, mlock/mlock2/munlock, load and smaps."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sys = ctypes.CDLL(None, use_errno=True)
        self._sys.syscall.restype = ctypes.c_long

    def _syscall(self, name, *args) -> int:
        ctypes.set_errno(0)
        ret = self._sys.syscall(ctypes.c_long(_SYS[name]),
                                *[ctypes.c_ulong(a & (_U64 - 1)) for a in args])
        return -ctypes.get_errno() if ret == -1 else ret

    def _inside(self, start: int, end: int) -> bool:
        return self.base <= start and end <= self.base + self.size and start <= end

    def _free(self, start: int, end: int) -> bool:
        return not any(e["start"] < end and e["end"] > start for e in self.maps_entries())

    def _vet_mremap(self, addr, old_len, new_len, flags, new_addr):
        alen_old, alen_new = _page_align(old_len), _page_align(new_len)
        if not self.base <= addr < self.base + self.size:
            raise ValueError(f"mremap: {addr:#x} is outside the window")
        if not self._inside(addr, addr + alen_old):
            raise ValueError("mremap: the old range leaves the window")
        if flags & (MREMAP_FIXED | MREMAP_DONTUNMAP):
            if not self._inside(new_addr, new_addr + alen_new):
                raise ValueError("mremap: the new range leaves the window")
            if not flags & MREMAP_FIXED and not self._free(new_addr, new_addr + alen_new):
                raise ValueError("mremap: a DONTUNMAP hint over mapped memory lets the "
                                 "kernel choose the address")
            return
        if alen_new <= alen_old:
            return
        if not self._inside(addr, addr + alen_new):
            raise ValueError("mremap: the growth leaves the window")
        if flags & MREMAP_MAYMOVE:
            vma = next((e for e in self.maps_entries() if e["start"] <= addr < e["end"]), None)
            if (vma is None or vma["end"] != addr + alen_old or alen_old == 0
                    or not self._free(addr + alen_old, addr + alen_new)):
                raise ValueError("mremap: this growth would move the mapping to an address "
                                 "the kernel chooses")

    def mremap(self, addr, old_len, new_len, flags, new_addr=0) -> int:
        """mremap(2) confined to the window: the new address or -errno."""
        self._check_open()
        self._vet_mremap(addr, old_len, new_len, flags, new_addr)
        ret = self._syscall("mremap", addr, old_len, new_len, flags, new_addr)
        if ret >= 0 and not self._inside(ret, ret + _page_align(new_len)):
            self._syscall_munmap(ret, _page_align(new_len))
            raise RuntimeError(f"mremap moved the mapping out of the window to {ret:#x}")
        return ret

    def _syscall_munmap(self, addr, length):
        libc = self._sys
        libc.munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
        libc.munmap(addr, length)

    def _vet_range(self, call, addr, length):
        if not self.base <= addr < self.base + self.size:
            raise ValueError(f"{call}: {addr:#x} is outside the window")
        start = addr & ~(PAGE_SIZE - 1)
        end = start + _page_align(length + (addr - start))
        if not self._inside(start, end):
            raise ValueError(f"{call}: the range leaves the window")

    def madvise(self, addr, length, advice) -> int:
        """madvise(2) on window pages: 0 or -errno."""
        self._check_open()
        if advice in VALID_ADVICE and advice not in MODELLED_ADVICE:
            raise ValueError(f"madvise: advice {advice} is not simulated by the model")
        self._vet_range("madvise", addr, length)
        return self._syscall("madvise", addr, length, advice)

    def mlock(self, addr, length) -> int:
        self._check_open()
        self._vet_range("mlock", addr, length)
        return self._syscall("mlock", addr, length)

    def mlock2(self, addr, length, flags) -> int:
        self._check_open()
        self._vet_range("mlock2", addr, length)
        return self._syscall("mlock2", addr, length, flags)

    def munlock(self, addr, length) -> int:
        self._check_open()
        self._vet_range("munlock", addr, length)
        return self._syscall("munlock", addr, length)

    def load(self, addr) -> int:
        """The byte at addr (a read fault), vetted like read()."""
        return self.read(addr)

    def _vet_access(self, addr, perm):
        """KernelWindow's rules, plus the size of a shared anonymous mapping's shmem file:
        mremap can grow such a mapping past the end of its file, and the pages there are
        SIGBUS. The size is read through /proc/self/map_files."""
        super()._vet_access(addr, perm)
        entry = next(e for e in self.maps_entries() if e["start"] <= addr < e["end"])
        if entry["name"] == "/dev/zero (deleted)":
            size = os.stat(f"/proc/self/map_files/{entry['start']:x}-{entry['end']:x}").st_size
            page_offset = entry["offset"] + (addr - addr % PAGE_SIZE - entry["start"])
            if page_offset >= size:
                raise ValueError(f"{addr:#x} is past the end of its shmem file: would SIGBUS")

    def vet_access(self, addr, perm) -> int:
        """0 if touch/read at addr is allowed by the safety rules (nothing is accessed)."""
        self._vet_access(addr, perm)
        return 0

    def smaps(self) -> list:
        """The window's VMAs: maps fields plus their VmFlags mnemonics (sorted)."""
        self._check_open()
        lo, hi = self.base, self.base + self.size
        out, cur = [], None
        with open("/proc/self/smaps", encoding="utf-8", errors="surrogateescape",
                  newline="") as f:
            for line in f.read().split("\n"):
                if not line:
                    continue
                head = line.split(None, 1)[0]
                if "-" in head and not head.endswith(":"):
                    start, end = (int(x, 16) for x in head.split("-"))
                    cur = parse_maps_line(line) if start < hi and end > lo else None
                    if cur is not None:
                        if not isinstance(cur["dev"], str):     # (major, minor) -> "mm:nn"
                            cur["dev"] = "%02x:%02x" % tuple(cur["dev"])
                        out.append(cur)
                elif cur is not None and line.startswith("VmFlags:"):
                    cur["flags"] = sorted(line.split(":", 1)[1].split())
        return out

    @staticmethod
    def vmlck() -> int:
        """VmLck of this process, in pages."""
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmLck:"):
                    return int(line.split()[1]) // 4
        return 0

    def drop_cap_ipc_lock(self, memlock_pages):
        """Drop CAP_IPC_LOCK and set RLIMIT_MEMLOCK (for a forked child only)."""
        hdr = ctypes.create_string_buffer(struct.pack("Ii", 0x20080522, 0))
        data = ctypes.create_string_buffer(24)
        if self._sys.syscall(ctypes.c_long(_SYS["capget"]), hdr, data) != 0:
            raise OSError(ctypes.get_errno(), "capget")
        caps = list(struct.unpack("6I", data.raw))
        caps[0] &= ~(1 << CAP_IPC_LOCK)
        caps[1] &= ~(1 << CAP_IPC_LOCK)
        data = ctypes.create_string_buffer(struct.pack("6I", *caps))
        if self._sys.syscall(ctypes.c_long(_SYS["capset"]), hdr, data) != 0:
            raise OSError(ctypes.get_errno(), "capset")
        limit = memlock_pages * PAGE_SIZE
        resource.setrlimit(resource.RLIMIT_MEMLOCK, (limit, limit))


class ProcmapQuery:
    """The PROCMAP_QUERY ioctl on /proc/self/maps (Linux 6.11+): one VMA at a time, without
    reading (and allocating) the whole maps text, which matters near vm.max_map_count."""

    PROCMAP_QUERY = 0xC0686611            # _IOWR('f', 17, struct procmap_query)
    COVERING_OR_NEXT_VMA = 0x10

    def __init__(self):
        self._fd = os.open("/proc/self/maps", os.O_RDONLY)
        self._buf = ctypes.create_string_buffer(104)
        self._name = ctypes.create_string_buffer(512)
        self._libc = ctypes.CDLL(None, use_errno=True)

    def query(self, addr):
        """(start, end, perms, offset, dev, inode, name) of the first VMA ending above
        addr, or None."""
        struct.pack_into("QQQQQQQQQIIIIQQ", self._buf, 0, 104, self.COVERING_OR_NEXT_VMA, addr,
                         0, 0, 0, 0, 0, 0, 0, 0, 512, 0, ctypes.addressof(self._name), 0)
        ctypes.set_errno(0)
        if self._libc.ioctl(self._fd, ctypes.c_ulong(self.PROCMAP_QUERY), self._buf) != 0:
            return None
        (_, _, _, start, end, flags, _, offset, inode, major, minor,
         name_size, _, _, _) = struct.unpack_from("QQQQQQQQQIIIIQQ", self._buf, 0)
        perms = (("r" if flags & 1 else "-") + ("w" if flags & 2 else "-")
                 + ("x" if flags & 4 else "-") + ("s" if flags & 8 else "p"))
        name = self._name.raw[:max(0, name_size - 1)].decode("utf-8", "surrogateescape")
        return {"start": start, "end": end, "perms": perms, "offset": offset,
                "dev": f"{major:02x}:{minor:02x}", "inode": inode, "name": name}

    def range(self, lo, hi):
        out, addr = [], lo
        while True:
            e = self.query(addr)
            if e is None or e["start"] >= hi:
                return out
            out.append(e)
            addr = e["end"]

    def count(self) -> int:
        """How many VMAs this process has (map_count)."""
        n, addr = 0, 0
        while True:
            e = self.query(addr)
            if e is None:
                return n
            n += 1
            addr = e["end"]


FILL_BASE = 0x2000_0000_0000


def fill_map_count(headroom) -> int:
    """Map one-page PROT_NONE VMAs (one page apart, so none merges) far from the window
    until map_count is vm.max_map_count - headroom; return the count reached."""
    with open("/proc/sys/vm/max_map_count") as f:
        limit = int(f.read())
    q = ProcmapQuery()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long)
    count = q.count()
    addr = FILL_BASE
    while count < limit - headroom:
        ret = libc.mmap(addr, PAGE_SIZE, 0, 0x22 | 0x100000, -1, 0)   # NOREPLACE
        addr += 2 * PAGE_SIZE
        if ret == addr - 2 * PAGE_SIZE:
            count += 1
    return q.count()


def has_cap_ipc_lock() -> bool:
    """Does this process have CAP_IPC_LOCK in its effective set?"""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) >> CAP_IPC_LOCK & 1)
    return False


# ----------------------------------------------------------------------------- the server

_CALLS = ("mmap", "munmap", "mprotect", "touch", "read", "load", "mremap", "madvise", "mlock",
          "mlock2", "munlock", "memfd_create", "ftruncate", "dup", "reopen", "close_fd",
          "vet_access")


def _state(win, query=None):
    if query is not None:                 # near max_map_count: no big reads
        return {"vmas": query.range(win.base, win.base + win.size), "vmlck": win.vmlck(),
                "map_count": query.count()}
    return {"vmas": win.smaps(), "vmlck": win.vmlck()}


def serve(pages: int):
    """Run the server loop on stdin/stdout (fd 0 and 1, unbuffered)."""
    win = KernelWindowMore(pages=pages)
    query = None
    write = _writer()
    write({"base": win.base, "size": win.size, "cap_ipc_lock": has_cap_ipc_lock()})
    for req in _requests():
        op = req["op"]
        try:
            if op == "reset":
                win.reset()
                reply = {"ret": 0}
            elif op == "state":
                reply = {"ret": 0}
            elif op == "fork":
                pid = os.fork()
                if pid:
                    os.waitpid(pid, 0)   # the child answers until it exits
                    continue
                reply = {"ret": 0}
            elif op == "exit":
                write({"ret": 0})
                os._exit(0)
            elif op == "limits":
                win.drop_cap_ipc_lock(req["memlock_pages"])
                reply = {"ret": 0}
            elif op == "fill_map_count":
                query = ProcmapQuery()
                reply = {"ret": fill_map_count(req["headroom"])}
            elif op in _CALLS:
                try:
                    reply = {"ret": getattr(win, op)(*req["args"])}
                except ValueError as e:
                    reply = {"refused": str(e)}
            else:
                reply = {"error": f"unknown op {op!r}"}
            if req.get("state", True):
                reply.update(_state(win, query))
        except Exception as e:          # report, keep serving
            reply = {"error": f"{type(e).__name__}: {e}"}
        write(reply)


def _writer():
    def write(obj):
        data = (json.dumps(obj) + "\n").encode()
        while data:
            n = os.write(1, data)
            data = data[n:]
    return write


def _requests():
    buf = b""
    while True:
        while b"\n" not in buf:
            chunk = os.read(0, 65536)
            if not chunk:
                return
            buf += chunk
        line, buf = buf.split(b"\n", 1)
        yield json.loads(line)


class WindowServer:
    """The client: starts a server process and sends it calls (see the module docstring)."""

    def __init__(self, pages: int):
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        code = ("import sys; sys.path.insert(0, %r); from oracle.kernel_window_more import "
                "serve; serve(%d)" % (here, pages))
        self.proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, bufsize=0)
        hello = self._read()
        self.base, self.size = hello["base"], hello["size"]
        self.cap_ipc_lock = hello["cap_ipc_lock"]

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the kernel window server died")
        return json.loads(line)

    def call(self, op, *args, state=True, **extra):
        req = {"op": op, "args": list(args), "state": state, **extra}
        self.proc.stdin.write((json.dumps(req) + "\n").encode())
        reply = self._read()
        if "error" in reply:
            raise RuntimeError(f"kernel window server: {reply['error']}")
        return reply

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
