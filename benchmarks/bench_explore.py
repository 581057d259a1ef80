"""The race explorer: every single-switch schedule of the hugetlbfs race, per kernel variant.

What it measures (warm: the model is imported and one exploration has run): `explore(race,
kernel)` runs race-hugetlbfs-truncate once serially and then once per switch point of task A
(A maps a hugetlbfs file, B truncates it), each run in a fresh world with its own two task
threads, unrecorded, and judges every run. Printed: schedules, total seconds, schedules per
second, and how many went wrong. Target: all of them in at most 5 s per variant.

Run: .venv/bin/python benchmarks/bench_explore.py
"""

import statistics
import time

from mmviz.model.variants import KERNELS
from mmviz.scenarios.explore import explore
from mmviz.scenarios.races import get_race

TARGET_S = 5.0
RACES = ("race-hugetlbfs-truncate", "race-hugetlbfs-no-hide")


def main():
    explore(get_race(RACES[0]), "v4")                      # warm-up
    print("race                      kernel    schedules  total s (median of 3)  per second  wrong")
    worst = 0.0
    for name in RACES:
        race = get_race(name)
        for kernel in KERNELS:
            times, ex = [], None
            for _ in range(3):
                t0 = time.perf_counter()
                ex = explore(race, kernel)
                times.append(time.perf_counter() - t0)
            total = statistics.median(times)
            worst = max(worst, total)
            n = len(ex.runs) + 1                            # + the serial run
            print(f"{name:<25} {kernel:<9} {n:>9}  {total:>21.3f}  {n / total:>10.0f}  "
                  f"{len(ex.failing):>5}")
    print(f"slowest exploration {worst:.3f} s (target <= {TARGET_S} s)")
    return 0 if worst <= TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
