"""Recording time per catalog scenario and kernel (median of repeated runs); target ≤ 10 ms
each. Also the time `mmviz scenarios` spends recording every scenario under every kernel to
show which variants each one tells apart.

Run: .venv/bin/python benchmarks/bench_record.py
"""

import statistics
import time

from mmviz.model.variants import KERNELS
from mmviz.scenarios import names, record

REPEAT = 25


def main():
    print(f"{'scenario':26s} {'kernel':8s} {'median ms':>9s} {'max ms':>7s} {'events':>6s}")
    worst = 0.0
    for name in names():
        for kernel in KERNELS:
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
    from mmviz.scenarios.distinguish import variant_groups
    variant_groups.cache_clear()
    t0 = time.perf_counter()
    for name in names():
        variant_groups(name)
    total = time.perf_counter() - t0
    print(f"variants told apart, all {len(names())} scenarios x {len(KERNELS)} kernels: "
          f"{total * 1000:.0f} ms")


if __name__ == "__main__":
    main()
