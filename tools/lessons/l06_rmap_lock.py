from ._cells import code, exercises, frag, md, notes, setup, slide, sub

NAME = "06-the-rmap-lock-and-hiding"
TITLE = "06 · The rmap lock and hiding a VMA"

CELLS = [
    slide("""
        # 06 · The rmap lock and hiding a VMA

        A new VMA becomes visible to two kinds of readers: page faults (through the VMA
        tree) and **rmap walkers** (through the file's `i_mmap`). In this lesson (about 25
        minutes) you will see which lock guards each, why a driver may want its VMA hidden
        from the rmap until it is complete, and how v4 keeps that lock balanced.
        """),
    setup("""
        import mmviz
        from mmviz.scenarios import record
        from mmviz.lessons import (say, show_stepper, show_predict, show_questions, outcome,
                                   lock_timeline, check_reference_answers, reveal_answers)
        from mmviz.exercises import generate
        """),
    sub("""
        ## The file rmap: `i_mmap`

        Each file's `address_space` keeps `i_mmap`, an interval tree of **every VMA that
        maps the file**, keyed by file offset. Truncation, writeback and reclaim walk it to
        find all the mappings of a page.

        It is protected by `i_mmap_rwsem`, a read-write semaphore that is **not recursive**:
        a task that takes it for write twice deadlocks on itself, and releasing it when it
        is not held corrupts it.
        """),
    sub("""
        ## The locks of the mmap path, in their nesting order

        | lock | guards | held |
        |---|---|---|
        | `mmap_lock` (rwsem) | the whole address space | for write, across all of `do_mmap` |
        | per-VMA write lock | one VMA against lockless page faults | from `vma_start_write()` until `mmap_lock` is dropped |
        | `i_mmap_rwsem` | a file's `i_mmap` tree | briefly, around linking, merging, unlinking |
        | `anon_vma` lock | the anonymous rmap | during merges and splits |

        A task takes them in this order, never the reverse.
        """),
    notes("""
        The per-VMA lock has no unlock: it is a sequence number compared with the mm's. When
        mmap_lock is released the mm's sequence moves on and every VMA write lock taken under
        it is dropped at once. The stepper shows this as the burst of unlock events at the
        end.
        """),
    slide("""
        ## Without hiding: the rmap lock is held only around the link

        `file-prepare`: `i_mmap_rwsem` is taken in `vma_link_file()` and released right
        away. From then on an rmap walker can find the VMA, even though `->mapped` has not
        run yet.
        """),
    code('print(lock_timeline(record("file-prepare")))', "fragment"),
    frag("`█` = held at that point of the trace; the step labels are on top."),
    slide("""
        ## Why hide a VMA?

        Some drivers set up per-VMA state that rmap walkers use. hugetlbfs, the one in-tree
        user we know of, allocates a per-VMA lock that a walker could race with.
        `desc->action.hide_from_rmap_until_complete = true` asks the kernel to keep
        `i_mmap_rwsem` held **from the link until completion**, so no walker sees the VMA
        half built.
        """),
    code('print(lock_timeline(record("mapped-fail-hidden", kernel="v4")))', "fragment"),
    frag("""
        Here the lock stays held from S7 through S10. (The short second bar is `do_munmap`
        taking it again, after the release, to unlink the VMA: this `->mapped` fails.)
        """),
    slide("""
        ## Step through a hidden mapping (v4)

        Use **lock ▶** to jump between lock events: note *where* `i_mmap_rwsem` is
        released.
        """),
    code('show_stepper(record("mapped-fail-hidden", kernel="v4"))', "-", tags=("hide-input",)),
    sub("""
        ## v4: one place releases the lock

        In `mmap_action_finish()`, after the action, `->mapped` and `success_hook`, and
        before any `do_munmap()`:

        ```c
        maybe_rmap_unlock_action(vma, action):
            if (action->hide_from_rmap_until_complete) {
                i_mmap_unlock_write(vma->vm_file->f_mapping);
                action->hide_from_rmap_until_complete = false;   /* once only */
            }
        ```
        Clearing the flag makes a second call harmless, and unmapping after the release
        means `do_munmap()` can take the lock itself.
        """),
    code("""
        t = record("mapped-fail-hidden", kernel="v4")
        for e in t:
            if e.kind in ("lock", "unlock") and "i_mmap" in say(t, e):
                print(f"{e.seq:3d} {e.kind:6s} {say(t, e)}")
        """, "fragment"),
    slide("""
        ## Per-VMA locks in the same trace

        The new VMA is write-locked **before** it is stored in the tree, so a page fault that
        finds it must wait for `mmap_lock` to be dropped. Every VMA touched by a merge or a
        `MAP_FIXED` replacement is write-locked the same way.
        """),
    code("""
        t = record("fixed-replace")
        for e in t:
            if e.kind == "lock" and "write-locked" in say(t, e):
                print(f"{e.seq:3d} {say(t, e)}")
        dropped = [e for e in t if e.kind == "unlock" and "also drops" in say(t, e)]
        print(len(dropped), "VMA write locks end together, when mmap_lock is released")
        """, "fragment"),
    sub("""
        ## The compat path cannot hide, and does not need to

        When a stacked file (overlayfs, FUSE passthrough) reaches an `mmap_prepare` driver
        through the compatibility layer, the VMA being built is in neither the tree nor any
        `i_mmap`: it is hidden by construction, and no rmap lock is taken. v4 therefore
        **clears** the hide flag there, so that finish does not release a lock nobody took.
        Lesson 08 steps through it.
        """),
    *exercises(6, 'record("mapped-fail-hidden", kernel="v4")', 106,
               "A hidden mapping whose `->mapped` fails, on v4.",
               scenarios=['mapped-fail-hidden', 'action-fail-hidden', 'file-prepare']),
]
