"""Each lesson's exercises, drawn from its own goals.

A lesson's `Pool` names the question kinds its goals ask for and the (scenario, kernel)
pairs it may ask about (a pair may name the only kinds it is asked): pairs whose answers the
lesson has not already printed (the notebook
tests fail if a question's answer — its return value, outcome or VMA count — was printed
earlier in the same lesson, and if any prompt repeats across lessons).

    from mmviz.lessons import lesson_questions
    questions = lesson_questions("05")          # the lesson's seed; or seed=... for a new set
"""

from __future__ import annotations

from ..exercises import Pool, generate

POOLS = {
    # 00: a first mapping, traces: how many VMAs, what covers the range, what mmap returns.
    "00": Pool(("vma-count", "picture", "returns"),
               (("anon-merge-both", "v4"), ("file-prepare", "v4"), ("fixed-replace", "baseline"),
                ("file-merge-skips-mapped", "mainline"))),
    # 01: VMAs and their fields, map_count: predict the picture and the count.
    "01": Pool(("vma-count", "picture"),
               (("fixed-replace", "v4"), ("legacy-mmap-no-merge", "v4"),
                ("anon-merge-both", "baseline"), ("refcount-prepare-merge", "mainline"))),
    # 02: merging and splitting: which neighbours merge, how many VMAs are left.
    "02": Pool(("vma-count", "picture"),
               (("file-merge-skips-mapped", "v4"), ("legacy-mmap-no-merge", "v3"),
                ("refcount-prepare-merge", "v4"), ("refcount-mapped-merge", "v3"),
                ("legacy-mmap-no-merge", "baseline"))),
    # 03: .mmap vs .mmap_prepare: the order of the hooks, where a prepare error is born.
    "03": Pool(("hook-order", "errno-step", "vma-count"),
               (("file-prepare", "v4"), ("swapped-file-prepare-fail", "v4"),
                ("hugetlbfs-prepare", "v4"), ("refcount-prepare-merge", "v3"),
                ("legacy-mmap-no-merge", "mainline"))),
    # 04: the steps of __mmap_region: where an error is born, what is held at a hook.
    "04": Pool(("errno-step", "locks-at-hook", "hook-order"),
               (("remap-pfn", "v4"), ("swapped-file-abort", "v4"), ("io-remap", "v3"),
                ("hugetlbfs-prepare-leak", "v4"), ("map-kernel-pages", "mainline"))),
    # 05: actions and hooks: the order of ->mapped and the hooks, failures at completion.
    "05": Pool(("hook-order", "errno-step", "vma-count", "returns"),
               (("map-kernel-pages", "v3"), ("io-remap", "v4"), ("simple-ioremap", "v3"),
                ("action-fail-hidden", "v4"), ("uio-mapped-refused", "mainline"))),
    # 06: the rmap lock and hiding: what is held, what the checker says, who waits.
    "06": Pool(("locks-at-hook", "lockdep", "which-waits"),
               (("action-fail-hidden", "v4"), ("race-hugetlbfs-truncate", "v4"),
                ("race-fault-waits", "v4"), ("race-second-mmap", "v4"),
                ("mapped-fail-hidden", "mainline"), ("hugetlbfs-prepare", "v3"))),
    # 07: anatomy of a fix: what another version does, what the checker says.
    "07": Pool(("variant-diff", "lockdep"),
               (("uio-nested-hide", "v4"), ("uio-mapped-refused", "mainline"),
                ("devmem-eagain", "baseline"), ("hugetlbfs-prepare", "mainline"),
                ("refcount-mapped-merge", "v4"))),
    # 08: compat and nommu: hooks through the compat path, errors, the checker.
    "08": Pool(("hook-order", "errno-step", "lockdep", "vma-count"),
               (("compat-stacked", "v3", ("hook-order", "lockdep")),
                ("compat-fixed-mapped-fail", "v4"), ("swapped-file-prepare-fail", "mainline"),
                ("compat-stacked", "mainline", ("hook-order", "lockdep")),
                ("hugetlbfs-prepare-leak", "mainline"))),
    # 09: everything: predict a run end to end, and what a version changes.
    "09": Pool(("variant-diff", "errno-step", "hook-order", "vma-count", "lockdep"),
               (("action-fail-hidden", "v3"), ("mapped-fail-hidden", "v4"),
                ("remap-pfn-fail", "baseline"), ("fixed-prepare-fail-hole", "mainline"),
                ("devmem-eagain", "v4"), ("success-hook-fail", "v3"))),
}
SEEDS = {lesson: 100 + int(lesson) for lesson in POOLS}


RACE_LESSONS = {"10": (110, 4)}      # lesson 10 asks about races: mmviz.exercises_races
SPACE_LESSONS = {"11": (111, 6)}     # lesson 11: mremap, fork, madvise, mlock (exercises_space)


def lesson_questions(lesson: str, seed=None, n=None) -> list:
    """The questions of lesson `lesson` ("00".."11"): its pool, its seed (or another seed
    for a fresh set). Lesson 10's are `exercises_races.race_questions`, lesson 11's
    `exercises_space.space_questions`."""
    from ..model.errors import InputError
    if str(lesson) in RACE_LESSONS:
        from ..exercises_races import race_questions
        s, k = RACE_LESSONS[str(lesson)]
        return race_questions(s if seed is None else seed, k if n is None else n)
    if str(lesson) in SPACE_LESSONS:
        from ..exercises_space import space_questions
        s, k = SPACE_LESSONS[str(lesson)]
        return space_questions(s if seed is None else seed, k if n is None else n)
    pool = POOLS.get(str(lesson))
    if pool is None:
        raise InputError(f"no lesson {lesson!r}; the lessons are "
                         + ", ".join([*POOLS, *RACE_LESSONS, *SPACE_LESSONS]))
    return generate(SEEDS[str(lesson)] if seed is None else seed, pool.n if n is None else n,
                    kinds=pool.kinds, pairs=pool.pairs)
