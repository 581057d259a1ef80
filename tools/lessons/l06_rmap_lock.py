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
        from mmviz.lessons import lesson_questions
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
    frag("`#` = held at that point of the trace (one column is a slice of events); the "
         "step labels are on top."),
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
    code('show_stepper(record("mapped-fail-hidden", kernel="v4"), view="timeline")', "-",
         tags=("hide-input",)),
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
    slide("""
        ## The one user: hugetlbfs (ea52cb24cd3f)

        hugetlbfs's `mmap_prepare` reserved the huge pages, set the hide flag and left a
        `success_hook` that allocates the **per-VMA hugetlb lock** once the VMA exists: a
        truncation walking the rmap must not find a shared hugetlb VMA without its lock.
        The hook only works if it runs *before* the rmap lock is released. Does it?
        """),
    code("""
        for kernel in ("baseline", "v3", "v4", "mainline"):
            t = record("hugetlbfs-prepare", kernel=kernel)
            order = [e.fn if e.kind == "hook" else "rmap unlock" for e in t
                     if (e.kind == "hook" and e.data.get("phase") == "enter"
                         and e.fn in ("success_hook", "f_op->mmap"))
                     or (e.kind == "unlock" and "hugepages" in e.data.get("lock", ""))]
            warn = [say(t, e) for e in t if e.what == "hugetlb_lock_visible"]
            print(f"{kernel:9s} {' -> '.join(order):34s} {'window!' if warn else ''}")
        """, "fragment"),
    frag("""
        v3's finish released the lock **first**, so its `success_hook` ran while the rmap
        could already see the VMA: the window the flag exists to close. Mainline runs the
        reverted `.mmap` driver, which allocates the lock before the VMA is even linked.
        """),
    sub("""
        ## Why the conversion was reverted (spec §6g)

        State made in `mmap_prepare` has no owner until a VMA exists. If a later step fails
        — here allocating the VMA itself — no `close` will ever run to release it. The revert
        (83f9efcce93f, 12 May 2026) cites exactly this for the VMA lock; a private mapping's
        reservation map, made in prepare, is lost the same way:
        """),
    code("""
        for kernel in ("v4", "mainline"):
            t = record("hugetlbfs-prepare-leak", kernel=kernel)
            print(kernel, "|", t.result.summary(), "|",
                  [say(t, e) for e in t if e.what in ("hugetlb_state", "prepare_state_leaked")])
        """, "fragment"),
    notes("""
        The rule the revert restates: mmap_prepare describes, it does not allocate or take
        references. Per-mapping resources belong in ->mapped, paired with close; hugetlbfs
        could not use ->mapped for its lock because it must exist before the rmap sees the
        VMA, hence the success_hook under the hide flag, and hence the revert until that is
        reworked.
        """),
    sub("""
        ## The compat path cannot hide, and does not need to

        When a stacked file (overlayfs, FUSE passthrough) reaches an `mmap_prepare` driver
        through the compatibility layer, the VMA being built is in neither the tree nor any
        `i_mmap`: it is hidden by construction, and no rmap lock is taken. v4 therefore
        **clears** the hide flag there, so that finish does not release a lock nobody took
        (the baseline and v3 never release the lock in compat, so they leave it set).
        Lesson 08 steps through it, and through the direct callers that still miss it.
        """),
    *exercises(6, 'record("mapped-fail-hidden", kernel="v4")', 106,
               "A hidden mapping whose `->mapped` fails, on v4.",
               scenarios=['mapped-fail-hidden', 'action-fail-hidden', 'file-prepare',
                          'hugetlbfs-prepare', 'hugetlbfs-prepare-leak']),
]
