from ._cells import code, exercises, frag, md, notes, setup, slide, sub

NAME = "08-compat-path-and-nommu"
TITLE = "08 · The compat path and nommu"

CELLS = [
    slide("""
        # 08 · The compatibility path and kernels without an MMU

        Not every caller of a file's mmap hook is `__mmap_region()`. Stacked filesystems
        call the hook of the file underneath, with a VMA of their own, and kernels without
        an MMU have a different `do_mmap()` altogether. Both reach `mmap_prepare` drivers
        through a **compatibility layer**. About 20 minutes.
        """),
    setup("""
        import mmviz
        from mmviz import MAP_SHARED, MAP_FIXED, PROT_READ, PROT_WRITE
        from mmviz.model.drivers import DriverSpec
        from mmviz.model.errno import Errno
        from mmviz.scenarios import Scenario, record, run
        from mmviz.lessons import (say, show_stepper, show_predict, show_questions, outcome, strip,
                                   lock_timeline, check_reference_answers, reveal_answers)
        from mmviz.lessons import lesson_questions

        P = 4096
        A = 0x10000000
        """),
    sub("""
        ## Who needs a compatibility path

        - **Stacked files** — overlayfs, FUSE passthrough, coda — implement the legacy
          `.mmap` and forward it to the lower file with `vfs_mmap(lower_file, vma)`.
        - If the lower file only has `mmap_prepare`, `vfs_mmap()` calls
          `compat_vma_mmap()`.
        - Some converted drivers call the two halves themselves (`compat_set_desc_from_vma`,
          then `__compat_vma_mmap`), e.g. the Hyper-V vmbus ring buffer and UIO.
        - On **nommu**, `do_mmap()` reaches every file through `mmap_file()`: every
          `mmap_prepare` file goes through compat.
        """),
    slide("""
        ## What `compat_vma_mmap()` does (v4, spec §4)

        1. `compat_set_desc_from_vma()`: fill a descriptor from the VMA being built.
        2. Call the lower file's `mmap_prepare(desc)`.
        3. **Clear** `action.hide_from_rmap_until_complete` (new in v4).
        4. `__compat_vma_mmap()`: prepare the action, copy the descriptor back onto the VMA
           (`vm_ops` and private data unconditionally), then `mmap_action_complete()`:
           the action and `->mapped` run inside finish.
        """),
    sub("""
        ## Step through it

        An overlay-like file over a lower file that asks to be hidden from the rmap. Note
        that `f_op->mmap_prepare` runs *inside* the outer `f_op->mmap`, at S7, after the
        merge decision.
        """),
    code('show_stepper(record("compat-stacked"))', "-", tags=("hide-input",)),
    slide("""
        ## Why the hide flag must be cleared

        The VMA compat works on is the one the *outer* `mmap()` is still building: it is not
        in the VMA tree and not in any `i_mmap`, so no rmap walker can find it — it is
        hidden by construction, and compat takes **no rmap lock to hide it**. (The short
        `i_mmap_rwsem(/mnt/lower)` bar near the end is the outer `__mmap_region` linking
        the finished VMA into the lower file's `i_mmap`: taken and released at once.)

        v4's finish releases the rmap lock whenever the flag is set. Left set, it would
        release a lock nobody holds.
        """),
    code("""
        t = record("compat-stacked")
        print([say(t, e) for e in t if "hide flag" in say(t, e)][0])
        print(lock_timeline(t))
        """, "fragment"),
    notes("""
        A gap the spec points out (§6f): drivers that call __compat_vma_mmap() directly do
        not get the flag cleared. No in-tree user sets the flag in such a nested callback,
        so it is latent; the uio-nested-hide scenario below shows what would happen.
        """),
    slide("""
        ## Drivers that call the two halves: UIO

        v4 converted UIO (drivers/uio/uio.c): the device's `.mmap` fills a descriptor with
        `compat_set_desc_from_vma()`, runs the nested `uio_info->mmap_prepare`, then
        `__compat_vma_mmap()`. target_core_user's callback installs a `vm_ops->mapped` that
        takes a reference on the device. Then `vfs_mmap()`'s `__vma_check_mmap_hook()` sees
        a `->mapped` coming out of a legacy `.mmap`...
        """),
    code("""
        for kernel in ("baseline", "v3", "v4", "mainline"):
            t = record("uio-mapped-refused", kernel=kernel)
            print(f"{kernel:9s} {t.result.summary():28s}", [e.what for e in t if e.kind == "warn"])
        """, "fragment"),
    frag("""
        v3 and v4 WARN and fail the mapping — after `->mapped` took its reference, which no
        `close` will drop. The check was removed (3d3544a6c996, "mm/vma: remove
        __vma_check_mmap_hook()"). The baseline has neither the compat halves nor
        `->mapped`.
        """),
    sub("""
        ## The hide flag a direct caller never clears (spec §6f)

        Only `compat_vma_mmap()` clears the hide flag. A nested callback that sets it and is
        run through `__compat_vma_mmap()` leaves it set, and from v4 on finish releases an
        `i_mmap_rwsem` nobody took:
        """),
    code("""
        for kernel in ("v3", "v4", "mainline"):
            t = record("uio-nested-hide", kernel=kernel)
            print(kernel, "|", [say(t, e)[:80] for e in t if e.kind == "violation"] or "clean")
        """, "fragment"),
    sub("""
        ## What compat cannot do

        - **Merge**: the outer path has already decided to allocate a new VMA.
        - **Hide** the VMA: there is no lock to hold.
        - **Undo** by itself: the VMA is not established yet, so unmapping it is wrong; the
          outer `.mmap` error path zaps and frees. A post-v4 fix (April 2026, `is_compat`,
          the `mainline` variant) stops finish from calling `do_munmap` in compat; lesson
          07 shows the double free it prevents (`compat-fixed-mapped-fail`).
        """),
    code("""
        def setup(world):
            lower = DriverSpec("pfn-remap", name="lowerdev",
                               fail={"action_complete": -Errno.ENOMEM})
            return {"fd": world.open_driver(DriverSpec("stacked", name="overlay", lower=lower))}

        def act(world, ctx):
            return world.mmap(A, 4 * P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
                              ctx["fd"], 0)

        t = run(Scenario("stacked-remap-fail", "a stacked device's remap fails", "", setup, act))
        print(outcome(t), "| VMAs left:", len(t.final.vmas))
        for kernel in ("v4", "mainline"):
            t = run(Scenario("stacked-remap-fail", "", "", setup, act), kernel=kernel)
            print(f"{kernel:9s} do_munmap calls:",
                  sum(1 for e in t if e.kind == "call" and e.fn == "do_munmap"))
        """, "fragment"),
    slide("""
        ## nommu: no page tables, no remapping

        Without an MMU, user addresses are physical addresses: an action that fills page
        tables cannot work.
        - A shared mapping maps the driver's own memory (`NOMMU_MAP_DIRECT`): the file must
          say where it is, with `f_op->get_unmapped_area`, or `mmap()` is `-ENODEV`. A
          regular file is only *copied*, and its hook never runs.
        - nommu `mmap_action_prepare()`: any action other than `MMAP_NOTHING` → a WARNING,
          but it returns 0;
        - nommu `mmap_action_complete()`: a WARNING and `-EINVAL`;
        - before mainline, finish then calls nommu's own `do_munmap()`, which finds no VMA
          (this one was never added) and warns "munmap of memory not mmapped";
        - then nommu's own error handling frees the region.
        """),
    sub("""
        ## Step through it: a PFN-remapping device on nommu

        The two WARNINGs come from prepare and complete; then nommu frees the region.
        """),
    code('show_stepper(record("nommu-remap"))', "-", tags=("hide-input",)),
    sub("""
        ## The same device, with and without an MMU

        `remap-pfn` and `nommu-remap` map the same PFN-remapping driver; the second runs on
        a kernel configured without an MMU.
        """),
    code("""
        for t in (record("remap-pfn"), record("nommu-remap"),
                  record("nommu-remap", kernel="mainline")):
            print(f"{'mmu' if t.config['mmu'] else 'nommu':6s} {outcome(t)}")
            for e in t:
                if e.kind == "warn":
                    print("       ", say(t, e)[:100])
        """, "fragment"),
    frag("""
        And on v3 the nommu build fails before anything runs: the `casr` typo of lesson 07.
        Code paths that only some configurations compile need their own builds and tests.
        """),
    *exercises(8, 'record("compat-stacked")', 108,
               "A stacked file forwarding `mmap()` to a lower file that asks to be hidden.",
               scenarios=['compat-stacked', 'nommu-remap', 'remap-pfn', 'uio-mapped-refused',
                          'uio-nested-hide']),
]
