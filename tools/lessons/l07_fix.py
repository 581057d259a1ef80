from ._cells import code, exercises, frag, md, notes, setup, slide, sub

NAME = "07-anatomy-of-a-fix"
TITLE = "07 · Anatomy of a fix: baseline, v3, v4"

CELLS = [
    slide("""
        # 07 · Anatomy of a fix

        The action machinery went through three versions in five months. Each fixed a real
        problem on an **error path** — the code that almost never runs. In this lesson
        (about 25 minutes) you will replay a self-deadlock, a double unlock, a mapping that
        outlived its error and a build break, side by side with the version that fixed them.
        """),
    setup("""
        import mmviz
        from mmviz.scenarios import names, record
        from mmviz.lessons import (say, show_compare, show_stepper, show_predict, show_questions,
                                   outcome, outcome_matrix, lock_timeline,
                                   check_reference_answers,
                                   reveal_answers)
        from mmviz.exercises import generate
        """),
    sub("""
        ## Three versions (spec §0.1)

        | version | the rmap lock is released | on error |
        |---|---|---|
        | **baseline** (Oct 2025) | by the caller, *after* `mmap_action_complete` returns | finish calls `do_munmap` **while the lock is held** |
        | **v3** (19 Mar 2026) | in finish first; then `call_mapped_hook()` releases it **again** if `->mapped` fails | unmap in both places |
        | **v4** (20 Mar 2026) | once, in `maybe_rmap_unlock_action()`, which clears the flag | `do_munmap` after the release |
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
        for kernel in ("baseline", "v3", "v4"):
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
        ## The whole picture

        Every catalog scenario that is about the action machinery, on every version:
        """),
    code("""
        outcome_matrix(["action-fail-hidden", "mapped-fail-hidden", "success-hook-fail",
                        "remap-pfn-fail", "nommu-remap"])
        """, "-", tags=("hide-input",)),
    frag("""
        `+1 VMA`: an error was returned but a VMA is left; `!lock`: the lock checker
        complained. Only v4's column is clean. (In the baseline, `mapped-fail-hidden`
        succeeds only because `->mapped` did not exist yet.)
        """),
    sub("""
        ## What the fix teaches

        - **One owner** releases a lock; a flag that is cleared on release makes the release
          idempotent.
        - **Undo after unlock**: cleanup that takes locks must not run under them.
        - **Test the error paths**, with the locks real: the kernel's harness stubs them out.
        - **Build every configuration** the code claims to support.
        """),
    *exercises(7, 'record("mapped-fail-hidden", kernel="v3")', 107,
               "The v3 kernel, a hidden mapping, and a `->mapped` that fails.",
               scenarios=['action-fail-hidden', 'mapped-fail-hidden', 'success-hook-fail', 'nommu-remap']),
]
