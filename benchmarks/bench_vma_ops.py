"""Time per mmap, munmap and mprotect as the address space grows (100 … 65,000 VMAs).

The address space is N two-page anonymous RW VMAs separated by one-page holes, so no
two of them can merge.  Each timed call changes one of them and an untimed call puts it
back, so N stays fixed while sampling:

- mmap:     MAP_FIXED_NOREPLACE of one PROT_READ page into a random hole (a new VMA:
            its RW neighbours cannot merge with it); restored by munmap.
- munmap:   one whole VMA at random; restored by mmap.
- mprotect: one whole VMA RW -> R at random; restored by mprotect back to RW.
- the "(split)" rows: the same on the first page of a VMA, which splits it; the
            restoring call merges the two pieces again.
- mremap (move):   MREMAP_FIXED move of one whole VMA far away; moved back, untimed.
- mremap (shrink): a VMA shrunk to one page; grown back in place, untimed.
- mremap (grow):   a one-page VMA grown in place to two pages (after an untimed shrink).
- madvise (split): MADV_DONTFORK on the first page of a VMA; MADV_DOFORK merges it back.
- madvise (whole): MADV_DONTDUMP on a whole VMA; MADV_DODUMP puts it back.

fork is timed separately at 100 and 10,000 VMAs, every VMA written first (so each child
VMA goes through anon_vma_fork and shares a page): its cost must grow linearly with the
parent's VMAs, so the per-VMA figure should stay flat.

The model's operations should cost O(log N) (a bisected list of VMAs), so the
65,000/100 ratio should stay small.  Target: ratio <= 3 for every operation.

Run: .venv/bin/python benchmarks/bench_vma_ops.py
"""

import random
import statistics
import sys
import time

import mmviz
from mmviz import (MADV_DODUMP, MADV_DOFORK, MADV_DONTDUMP, MADV_DONTFORK, MAP_ANONYMOUS,
                   MAP_FIXED_NOREPLACE, MAP_PRIVATE, MREMAP_FIXED, MREMAP_MAYMOVE, PROT_READ,
                   PROT_WRITE)

P = mmviz.PAGE_SIZE
BASE = 0x1000_0000_0000
SIZES = (100, 1_000, 10_000, 65_000)
SAMPLES = 400
RW = PROT_READ | PROT_WRITE
FLAGS = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE
TARGET_RATIO = 3.0


STRIDE = 3 * P      # a two-page VMA and a one-page hole


def build(n):
    w = mmviz.World(max_map_count=n + 1000)
    for i in range(n):
        addr = BASE + i * STRIDE
        assert w.mmap(addr, 2 * P, RW, FLAGS) == addr
    assert w.mm.map_count == n
    return w


def _time(fn, *args):
    t0 = time.perf_counter_ns()
    ret = fn(*args)
    return time.perf_counter_ns() - t0, ret


OPS = ("mmap", "munmap", "mprotect", "munmap (split)", "mprotect (split)", "mremap (move)",
       "mremap (shrink)", "mremap (grow)", "madvise (split)", "madvise (whole)")
FAR = 0x3000_0000_0000          # a free area for mremap moves
MOVE = MREMAP_MAYMOVE | MREMAP_FIXED
FORK_SIZES = (100, 10_000)
FORK_SAMPLES = 5


def measure(n, rng):
    w = build(n)
    out = {op: [] for op in OPS}
    for _ in range(SAMPLES):
        hole = BASE + rng.randrange(n) * STRIDE + 2 * P
        dt, ret = _time(w.mmap, hole, P, PROT_READ, FLAGS)
        assert ret == hole
        out["mmap"].append(dt)
        assert w.munmap(hole, P) == 0

        vma = BASE + rng.randrange(n) * STRIDE
        dt, ret = _time(w.munmap, vma, 2 * P)
        assert ret == 0
        out["munmap"].append(dt)
        assert w.mmap(vma, 2 * P, RW, FLAGS) == vma

        vma = BASE + rng.randrange(n) * STRIDE
        dt, ret = _time(w.mprotect, vma, 2 * P, PROT_READ)
        assert ret == 0
        out["mprotect"].append(dt)
        assert w.mprotect(vma, 2 * P, RW) == 0

        vma = BASE + rng.randrange(n) * STRIDE
        dt, ret = _time(w.munmap, vma, P)
        assert ret == 0
        out["munmap (split)"].append(dt)
        assert w.mmap(vma, P, RW, FLAGS) == vma           # merges back with the rest

        vma = BASE + rng.randrange(n) * STRIDE
        dt, ret = _time(w.mprotect, vma, P, PROT_READ)
        assert ret == 0
        out["mprotect (split)"].append(dt)
        assert w.mprotect(vma, P, RW) == 0                 # merges back

        vma = BASE + rng.randrange(n) * STRIDE
        dt, ret = _time(w.mremap, vma, 2 * P, 2 * P, MOVE, FAR)
        assert ret == FAR
        out["mremap (move)"].append(dt)
        assert w.mremap(FAR, 2 * P, 2 * P, MOVE, vma) == vma

        vma = BASE + rng.randrange(n) * STRIDE
        dt, ret = _time(w.mremap, vma, 2 * P, P, 0)
        assert ret == vma
        out["mremap (shrink)"].append(dt)
        dt, ret = _time(w.mremap, vma, P, 2 * P, 0)
        assert ret == vma
        out["mremap (grow)"].append(dt)

        vma = BASE + rng.randrange(n) * STRIDE
        dt, ret = _time(w.madvise, vma, P, MADV_DONTFORK)
        assert ret == 0
        out["madvise (split)"].append(dt)
        assert w.madvise(vma, P, MADV_DOFORK) == 0

        vma = BASE + rng.randrange(n) * STRIDE
        dt, ret = _time(w.madvise, vma, 2 * P, MADV_DONTDUMP)
        assert ret == 0
        out["madvise (whole)"].append(dt)
        assert w.madvise(vma, 2 * P, MADV_DODUMP) == 0
        assert w.mm.map_count == n
    w.validate()
    return {op: statistics.median(v) / 1000 for op, v in out.items()}


def measure_fork(n):
    """Median time of fork() of a process with n written VMAs (the child then exits)."""
    w = build(n)
    for i in range(n):
        assert w.touch(BASE + i * STRIDE) == 0
    times = []
    for _ in range(FORK_SAMPLES):
        dt, child = _time(w.fork)
        assert child.mm.map_count == n
        times.append(dt)
        child.exit()
    w.validate()
    return statistics.median(times) / 1000


def main():
    rng = random.Random(1)
    measure(100, rng)                              # warm imports and caches
    results = {}
    for n in SIZES:
        t0 = time.perf_counter()
        results[n] = measure(n, rng)
        print(f"  {n:>6,} VMAs: built and sampled in {time.perf_counter() - t0:.1f} s",
              file=sys.stderr)
    header = f"{'operation':18s}" + "".join(f"{f'{n:,} VMAs':>14s}" for n in SIZES) \
        + f"{'65,000/100':>12s}"
    print("median time per call (µs)")
    print(header)
    print("-" * len(header))
    worst = 0.0
    for op in OPS:
        ratio = results[SIZES[-1]][op] / results[SIZES[0]][op]
        worst = max(worst, ratio)
        print(f"{op:18s}" + "".join(f"{results[n][op]:14.1f}" for n in SIZES) + f"{ratio:12.2f}")
    verdict = "OK" if worst <= TARGET_RATIO else "OVER"
    print(f"worst ratio {worst:.2f} (target <= {TARGET_RATIO:g}): {verdict}")
    fork = {n: measure_fork(n) for n in FORK_SIZES}
    print()
    print("fork() of a process whose VMAs are all written (median of "
          f"{FORK_SAMPLES}; linear in the parent's VMAs)")
    for n in FORK_SIZES:
        print(f"  {n:>6,} VMAs: {fork[n] / 1000:9.2f} ms   {fork[n] / n:6.2f} µs per VMA")
    per_vma = (fork[FORK_SIZES[-1]] / FORK_SIZES[-1]) / (fork[FORK_SIZES[0]] / FORK_SIZES[0])
    print(f"  per-VMA cost 10,000/100: {per_vma:.2f} (linear: about 1; target <= "
          f"{TARGET_RATIO:g}): {'OK' if per_vma <= TARGET_RATIO else 'OVER'}")


if __name__ == "__main__":
    main()
