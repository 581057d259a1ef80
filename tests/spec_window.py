"""The window the spec's acceptance cases (kernel-rmap-and-tasks.md §2-§4) are written in:
pages counted from A, spans as (start page, end page), and the checks after every case."""

from mmviz import (MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MREMAP_FIXED, MREMAP_MAYMOVE, PROT_READ,
                   PROT_WRITE)
from mmviz.model.validate import check_commit_charge

P = 4096
A = 0x1000_0000_0000
RW = PROT_READ | PROT_WRITE
ANON = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED
MF = MREMAP_MAYMOVE | MREMAP_FIXED


def pg(n):
    return A + n * P


def spans(p, lo=0, hi=64):
    """(start page, end page) of the VMAs of World or Process `p` in pages [lo, hi)."""
    return [((v.vm_start - A) // P, (v.vm_end - A) // P) for v in p.vmas(pg(lo), pg(hi))]


def ok(*procs):
    """Every invariant of each process, and the world's commit charge."""
    for p in procs:
        p.validate()
    check_commit_charge(procs[0].world if hasattr(procs[0], "task") else procs[0])
