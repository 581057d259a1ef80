from ._cells import code, exercises, frag, md, notes, setup, slide, sub

NAME = "07-anatomy-of-a-fix"
TITLE = "07 · Anatomy of a fix: baseline, v3, v4, mainline"

CELLS = [
    slide("""
        # 07 · Anatomy of a fix

        The action machinery went through four versions in seven months. Each fixed a real
        problem on an **error path** — the code that almost never runs. In this lesson
        (about 30 minutes) you will replay a self-deadlock, a double unlock, a mapping that
        outlived its error, a build break, an unmap of a VMA that was not there and a leaked
        file, side by side with the version that fixed them.
        """),
    setup("""
        import mmviz
        from mmviz.scenarios import names, record
        from mmviz.lessons import (say, show_compare, show_stepper, show_predict, show_questions,
                                   outcome, outcome_matrix, lock_timeline,
                                   check_reference_answers,
                                   reveal_answers)
        from mmviz.lessons import lesson_questions
        """),
    sub("""
        ## Four versions (spec §0.1, docs/variants.md)

        | version | the rmap lock is released | on error |
        |---|---|---|
        | **baseline** (Oct 2025, ac0a3fc9c07d) | by the caller, *after* `mmap_action_complete` returns | finish calls `do_munmap` **while the lock is held** |
        | **v3** (19 Mar 2026) | in finish first; then `call_mapped_hook()` releases it **again** if `->mapped` fails | unmap in both places |
        | **v4** (20 Mar 2026) | once, in `maybe_rmap_unlock_action()`, which clears the flag | `do_munmap` after the release |
        | **mainline** (May 2026) | as v4 | as v4, except in the compat path (`is_compat`); `error_override` replaces the hooks |

        Each is its own kernel: the baseline has three action types and no `->mapped`;
        mainline has no `success_hook`. A scenario that needs what a kernel lacks is *not
        possible* there, never borrowed from a later version.
        """),
    slide("""
        ## Bug 1: the baseline deadlocks on itself (spec §6b)

        A hidden VMA (the rmap lock is held) whose PFN remap fails. Finish unmaps it:
        `do_munmap` → `free_pgtables` → `unlink_file_vma_batch_process` →
        `i_mmap_lock_write()` on the lock **this task already holds**.
        """),
    code("""
        show_compare(record("action-fail-hidden", kernel="baseline"),
                     record("action-fail-hidden", kernel="v4"))
        """, "-", tags=("hide-input",)),
    sub("""
        ## What the lock checker said
        """),
    code("""
        t = record("action-fail-hidden", kernel="baseline")
        print(outcome(t))
        print(say(t, t.violations[0].seq))
        print()
        print(lock_timeline(t))
        """, "-"),
    notes("""
        The fix went to stable ("mm: avoid deadlock when holding rmap on mmap_prepare
        error"): move the munmap after the unlock. The kernel's own userspace VMA tests stub
        the locks, so they could not have caught this; a model with a lock checker can.
        """),
    slide("""
        ## Bug 2: v3 releases the lock twice (spec §6a)

        A hidden VMA whose `->mapped` fails. v3's finish releases the rmap lock and returns;
        then `call_mapped_hook()` sees the error and, because its own copy of the hide flag
        is still set, releases it **again**.
        """),
    code("""
        show_compare(record("mapped-fail-hidden", kernel="v3"),
                     record("mapped-fail-hidden", kernel="v4"))
        """, "-", tags=("hide-input",)),
    sub("""
        ## Two copies of one fact

        v3 kept "is the rmap lock held?" in two places: the action's flag and
        `map->hold_file_rmap_lock`. v4 deletes the second copy and clears the first when it
        releases the lock, so the question has one answer.
        """),
    code("""
        for kernel in ("v3", "v4"):
            t = record("mapped-fail-hidden", kernel=kernel)
            print(outcome(t))
            for e in t:
                if (e.kind in ("lock", "unlock") and "i_mmap" in say(t, e)
                        or e.kind == "violation" or say(t, e) == "calling vm_ops->mapped"):
                    print(f"  {e.seq:3d} {e.kind:9s} {say(t, e)[:66]}")
        """, "fragment"),
    frag("""
        Also new in v4: `->mapped` runs **before** the release, so the rmap never sees a VMA
        whose `->mapped` has not run yet.
        """),
    slide("""
        ## Bug 3: an error with a mapping left behind (spec §6i)

        The action succeeds and `success_hook` fails. Before v4 its error was returned
        directly — the VMA stayed mapped while `mmap()` reported failure.
        """),
    code("""
        for kernel in ("baseline", "v3", "v4", "mainline"):
            t = record("success-hook-fail", kernel=kernel)
            print(f"{outcome(t)}; VMAs left: {len(t.final.vmas)}")
        """, "fragment"),
    sub("""
        ## Bug 4: a typo only one configuration compiles (spec §6c)

        v3's `!CONFIG_MMU` version of `mmap_action_complete()` spelled one label `casr`
        instead of `case`. Kernels with an MMU never compile that branch, so nobody
        noticed; a kernel without one does not build.
        """),
    code("""
        t = record("nommu-remap", kernel="v3")
        print(t.result.outcome, "-", say(t, t.events[0]))
        """, "fragment"),
    slide("""
        ## Bug 5: unmapping a VMA that is not in the tree (spec §6e)

        In the compat path the VMA is still being built by the outer `.mmap`. When the lower
        file's `->mapped` fails, v3 (`__compat_vma_mapped()`) and v4 (finish) `do_munmap()`
        its range anyway. Over a `MAP_FIXED` replacement that range still holds the old,
        already detached VMA: a warning, then a double free. The April 2026 fix passes
        `is_compat`, and finish leaves the cleanup to the outer path.
        """),
    code("""
        show_compare(record("compat-fixed-mapped-fail", kernel="v4"),
                     record("compat-fixed-mapped-fail", kernel="mainline"))
        """, "-", tags=("hide-input",)),
    code("""
        for kernel in ("v3", "v4", "mainline"):
            t = record("compat-fixed-mapped-fail", kernel=kernel)
            print(f"{kernel:9s} {t.result.summary():8s} map_count {t.final.map_count:2d}",
                  [e.what for e in t if e.kind == "warn"])
        """, "fragment"),
    sub("""
        ## Bug 6: a leaked file (spec §6h, §8)

        `mmap_prepare` may swap the mapped file (a shared `/dev/zero` becomes shmem); the
        mapping then owns the new file's only reference. If allocating the VMA fails, the
        abort path must drop it. Only the 31 Mar 2026 fix ("mm/vma: fix memory leak in
        __mmap_region()") does; the model checks every file reference when `mmap()`
        returns and reports the leak.
        """),
    code("""
        for kernel in ("baseline", "v3", "v4", "mainline"):
            t = record("swapped-file-abort", kernel=kernel)
            leak = [say(t, e) for e in t if e.what == "file_ref_leak"]
            print(f"{kernel:9s} {t.result.summary():8s} {leak[0][:70] + '...' if leak else 'no leak'}")
        """, "fragment"),
    frag("""
        And one the fix still misses: swap the file, then let *action prepare* fail
        (`swapped-file-prepare-fail`). The flag that tells the abort path to drop the file is
        set only after a successful prepare, so every kernel leaks it.
        """),
    slide("""
        ## The whole picture

        Every catalog scenario that is about the action machinery, on every version:
        """),
    code("""
        outcome_matrix(["action-fail-hidden", "mapped-fail-hidden", "success-hook-fail",
                        "remap-pfn-fail", "nommu-remap", "compat-fixed-mapped-fail",
                        "swapped-file-abort"],
                       kernels=("baseline", "v3", "v4", "mainline"))
        """, "-", tags=("hide-input",)),
    frag("""
        `+1 VMA`: an error was returned but a VMA is left; `!lock`: the lock checker
        complained; `n/a`: the kernel lacks what the scenario needs (the baseline has no
        `->mapped`, mainline no `success_hook`). The matrix shows outcomes only: v3 and v4's
        double free and the pre-mainline file leak are in the warnings above.
        """),
    sub("""
        ## What the fix teaches

        - **One owner** releases a lock; a flag that is cleared on release makes the release
          idempotent.
        - **Undo after unlock**: cleanup that takes locks must not run under them.
        - **Test the error paths**, with the locks real: the kernel's harness stubs them out.
        - **Build every configuration** the code claims to support.
        - **Know who cleans up**: a callee that undoes what its caller will also undo frees
          twice (`is_compat`).
        - **Check what you own** on every path out, references included.
        """),
    *exercises(7, 'record("mapped-fail-hidden", kernel="v3")', 107,
               "The v3 kernel, a hidden mapping, and a `->mapped` that fails.",
               scenarios=['action-fail-hidden', 'mapped-fail-hidden', 'success-hook-fail', 'nommu-remap',
                          'compat-fixed-mapped-fail', 'swapped-file-abort']),
]
