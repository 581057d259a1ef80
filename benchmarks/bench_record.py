"""Recording time per catalog scenario (median of repeated runs); target ≤ 10 ms each.

Run: .venv/bin/python benchmarks/bench_record.py
"""

import statistics
import time

from mmviz.scenarios import names, record

REPEAT = 25


def main():
    print(f"{'scenario':26s} {'kernel':8s} {'median ms':>9s} {'max ms':>7s} {'events':>6s}")
    worst = 0.0
    for name in names():
        for kernel in ("baseline", "v3", "v4"):
            record(name, kernel)            # warm imports and caches
            times = []
            for _ in range(REPEAT):
                t0 = time.perf_counter()
                t = record(name, kernel)
                times.append((time.perf_counter() - t0) * 1000)
            med = statistics.median(times)
            worst = max(worst, med)
            print(f"{name:26s} {kernel:8s} {med:9.2f} {max(times):7.2f} {len(t):6d}")
    print(f"worst median: {worst:.2f} ms (target <= 10 ms): {'OK' if worst <= 10 else 'OVER'}")


if __name__ == "__main__":
    main()
