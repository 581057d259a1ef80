from ._cells import code, exercises, frag, md, notes, setup, slide, sub

NAME = "04-stepping-mmap-region"
TITLE = "04 · Stepping through __mmap_region"

CELLS = [
    slide("""
        # 04 · Stepping through `__mmap_region`

        Every `mmap()` that creates or extends a VMA ends up in one function of
        `mm/vma.c`: `__mmap_region()`. In this lesson (about 25 minutes) you will step
        through it three times: a file whose driver uses `mmap_prepare`, an anonymous
        mapping that merges, and a `MAP_FIXED` mapping that replaces an old one.
        """),
    setup("""
        import mmviz
        from mmviz.scenarios import record
        from mmviz.lessons import (say, show_stepper, show_before_after, show_predict,
                                   show_questions, outcome, strip, check_reference_answers,
                                   reveal_answers)
        from mmviz.lessons import lesson_questions
        """),
    sub("""
        ## How a call gets there

        ```
        mmap(2) ─ ksys_mmap_pgoff
                  └ vm_mmap_pgoff        takes mmap_lock for write
                    └ do_mmap            checks the arguments, picks the address
                      └ mmap_region      MDWE and arch checks, temporary writable count
                        └ __mmap_region  builds, merges or replaces the VMA
        ```
        `mmap_lock` is held for write from `vm_mmap_pgoff` down to the return: nothing else
        can change this address space meanwhile.
        """),
    slide("""
        ## The steps of `__mmap_region` (spec §2.3)

        | step | what happens |
        |---|---|
        | S0–S2 | set up the state; `__mmap_setup`: detach what `MAP_FIXED` replaces, charge memory |
        | S3 | `mmap_prepare` files: call the driver's hook on a descriptor |
        | S5–S6 | KSM flags; try to **merge** with the neighbours |
        | S7 | no merge: `__mmap_new_vma` allocates, write-locks, stores, links into the file rmap |
        | S8 | copy the driver's `vm_ops` and private data onto the VMA |
        | S9 | `__mmap_complete`: free the replaced VMAs, update statistics |
        | S10 | new `mmap_prepare` VMA: run the **action**, `->mapped`, the hooks |
        | S11 | return the address |
        """),
    notes("""
        The error labels E1 (unacct_error) and E2 (abort_munmap) come in at the end of the
        lesson. Note that S4 is the jump to abort_munmap when S2 or S3 fails.
        """),
    slide("""
        ## Run 1: a file with `mmap_prepare`

        `/mnt/notes` is a regular file converted to `mmap_prepare`. Use **hook ▶** to jump
        between the driver's callbacks and **lock ▶** between lock changes.
        """),
    code('file_prepare = record("file-prepare")\nshow_stepper(file_prepare, view="timeline")', "-",
         tags=("hide-input",)),
    notes("""
        Stop at: S3 (the hook sees only the descriptor, no VMA exists); S7 (write-lock, then
        store in the tree, then i_mmap_rwsem taken and released around the link into the
        file rmap); S10 (->mapped runs, once, on the new VMA). At the end dropping mmap_lock
        also drops the per-VMA write lock.
        """),
    sub("""
        ## The steps, read from the trace

        A trace is data: every event carries its step label, its message and the locks held
        afterwards. These are the events that announce a step:
        """),
    code("""
        for e in file_prepare:
            if e.step:
                print(f"{e.step:>4}  {say(file_prepare, e)}")
        """, "fragment"),
    sub("""
        ## Which locks, when

        The locks held change only at a few events: mmap_lock for the whole call, the new
        VMA's write lock from S7, and the file's `i_mmap_rwsem` only around the link.
        """),
    code("""
        previous = ()
        for e in file_prepare:
            if e.locks_held != previous:
                print(f"{e.seq:3d} {', '.join(e.locks_held) or '(none)'}")
                previous = e.locks_held
        """, "fragment"),
    slide("""
        ## Run 2: a merge means no new VMA

        `[0x10002000, 0x10003000)` fills a hole: at S6 the left VMA grows over both and the
        right one is freed; no S7, S8, S10. Which VMAs are write-locked, and why both?
        """),
    code('show_stepper(record("anon-merge-both"))', "-", tags=("hide-input",)),
    notes("""
        Both: the target (vma#1) because it changes, and vma#2 because it is removed; a
        page fault must not use either while the tree is being rewritten.
        """),
    slide("""
        ## Run 3: `MAP_FIXED` replaces part of a file mapping

        `__mmap_setup` splits the old VMA at both ends, detaches the middle (it could still be
        put back), then zaps its pages and calls `->close`: from then on it is gone for good.
        """),
    code('fixed = record("fixed-replace")\nshow_stepper(fixed)', "-", tags=("hide-input",)),
    sub("""
        ## Before and after
        """),
    code("show_before_after(fixed)", "-", tags=("hide-input",)),
    sub("""
        ## Where a failure lands (spec §2.9)

        | what fails | then |
        |---|---|
        | a split or the memory charge, in `__mmap_setup` | old VMAs put back, nothing changed |
        | `mmap_prepare` or the action's prepare | `abort_munmap`: with `MAP_FIXED`, a **hole** |
        | allocating the VMA, a legacy `.mmap` | `unacct_error`, then `abort_munmap` |
        | the action, `->mapped`, a hook (S10) | the new VMA is unmapped again |
        """),
    code("""
        t = record("fixed-prepare-fail-hole")
        print(outcome(t))
        print(strip(t.initial), strip(t.final), sep="")
        """, "fragment"),
    *exercises(4, 'record("file-prepare")', 104,
               "A regular file converted to `mmap_prepare`, mapped where nothing else is.",
               scenarios=['file-prepare', 'anon-merge-both', 'fixed-replace', 'fixed-prepare-fail-hole']),
]
