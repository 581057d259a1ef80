"""Loading a real-sized /proc/PID/maps and snapshotting it: both must be linear in the lines.

What it measures (warm, one process): `World.from_maps(text)` and `take_snapshot(world)` for
maps texts of 10,000 and 80,000 lines, each line a different file (the case that was
quadratic: 80,000 file lines took 54 s to snapshot), and the ratio of the two sizes' times
per line. Target: per-line cost at 80,000 within 2x of that at 10,000.

Run: .venv/bin/python benchmarks/bench_maps.py
"""

import statistics
import time

from mmviz.model.world import World
from mmviz.trace import take_snapshot

SIZES = (10_000, 80_000)


def maps_text(n: int) -> str:
    return "".join(f"{0x10000000 + i * 0x2000:x}-{0x10000000 + i * 0x2000 + 0x1000:x} r--p "
                   f"00000000 08:01 {100000 + i}    /usr/lib/f{i}.so\n" for i in range(n))


def measure(n: int, reps: int = 3):
    text = maps_text(n)
    loads, snaps = [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        w = World.from_maps(text, max_map_count=n + 65530)
        t1 = time.perf_counter()
        s = take_snapshot(w)
        t2 = time.perf_counter()
        assert len(s.vmas) == n
        loads.append(t1 - t0)
        snaps.append(t2 - t1)
    return statistics.median(loads), statistics.median(snaps)


def main():
    print("maps lines   from_maps (s)   take_snapshot (s)   µs per line (load + snapshot)")
    per_line = {}
    for n in SIZES:
        load, snap = measure(n)
        per_line[n] = (load + snap) / n * 1e6
        print(f"{n:>10,}   {load:>13.3f}   {snap:>17.3f}   {per_line[n]:>10.1f}")
    ratio = per_line[SIZES[-1]] / per_line[SIZES[0]]
    print(f"per-line cost ratio {SIZES[-1]:,}/{SIZES[0]:,}: {ratio:.2f} (target <= 2: linear)")
    return 0 if ratio <= 2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
