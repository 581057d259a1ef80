from ._cells import code, exercises, frag, md, notes, setup, slide, sub

NAME = "03-from-mmap-to-mmap-prepare"
TITLE = "03 · From .mmap to .mmap_prepare"

CELLS = [
    slide("""
        # 03 · From `.mmap` to `.mmap_prepare`

        When user space maps a file, the file's driver gets a say. For decades that was the
        `f_op->mmap(file, vma)` hook; Linux is replacing it with `f_op->mmap_prepare(desc)`.
        In this lesson (about 20 minutes) you will see what was wrong with the old hook,
        watch it cost a merge, and see how the new one is shaped so that it cannot.
        """),
    setup("""
        import mmviz
        from mmviz import World, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_FIXED
        from mmviz.model.drivers import DriverSpec, driver_state
        from mmviz.model.vm_flags import VmFlags
        from mmviz.scenarios import Scenario, record, run
        from mmviz.lessons import (say, show_stepper, show_before_after, show_predict,
                                   show_questions, outcome, strip, check_reference_answers,
                                   reveal_answers)
        from mmviz.lessons import lesson_questions

        P = 4096
        RW = PROT_READ | PROT_WRITE
        A = 0x10000000
        """),
    sub("""
        ## The legacy hook: `f_op->mmap(file, vma)`

        The driver receives a **fully built VMA**, after the kernel has already
        - checked the permissions, seals and memory limits on the original flags,
        - charged the memory,
        - decided whether the new range merges with a neighbour.

        The driver may then change almost anything: flags, `vm_pgoff`, `vm_file`,
        `vm_ops`; and it may fill page tables (`remap_pfn_range`) or take references.
        """),
    slide("""
        ## Why that is risky (spec §6d)

        1. **Checks are bypassed**: flags changed after the checks were never checked.
        2. **Merges are missed**: the merge decision was taken on the old flags.
        3. **KSM** flags are applied after the merge decision, too.
        4. **Errors are hard to unwind**: after the hook nothing may fail, so every check had
           to move before it (a 2024 fix); on a hook error the kernel can only zap and free.
        5. **References and locks** taken in the hook assume the mapping will exist.
        6. The hook cannot use the new `->mapped` callback: `vfs_mmap()` refuses it.
        """),
    notes("""
        Point 1 in practice: a driver adding VM_MAYWRITE to a shared mapping whose write
        permission was refused earlier only triggers a warning. Point 4: the 2024 commit
        "mm: resolve faulty mmap_region() error path behaviour" moved every failing check
        ahead of the hook.
        """),
    slide("""
        ## Risk 2, live: a legacy driver misses a merge

        `/dev/oldcam` still uses `.mmap`, and its hook always adds `VM_HUGEPAGE`. Its first
        two pages are mapped; now the next two pages, at the next file offset:
        """),
    code('legacy = record("legacy-mmap-no-merge")\nshow_before_after(legacy)', "-",
         tags=("hide-input",)),
    frag("""
        Two identical VMAs where one would do: at the merge step the new range had no
        `VM_HUGEPAGE` yet, so it did not match its neighbour; the hook added the flag only
        afterwards. Until May 2025 a "retry merge" papered over this; it was removed.
        """),
    sub("""
        ## Watch the order of events
        Jump to the hook: the merge attempt (S6) comes first, `f_op->mmap` after it.
        """),
    code("show_stepper(legacy)", "-", tags=("hide-input",)),
    slide("""
        ## The new hook: `f_op->mmap_prepare(desc)`

        The driver receives a **descriptor** (`struct vm_area_desc`), *before* any VMA
        exists, and describes what it wants:

        | fields | the driver may |
        |---|---|
        | `mm`, `file`, `start`, `end` | read only |
        | `pgoff`, `vm_file`, `vma_flags`, `page_prot` | read and change |
        | `vm_ops`, `private_data` | set |
        | `action` | ask for work after the VMA exists (lesson 05) |

        `__mmap_region()` copies the driver's choices back **before** it tries to merge.
        """),
    sub("""
        ## The same driver, converted

        A scenario of our own: the driver sets `VM_HUGEPAGE` in `mmap_prepare`, on the
        descriptor. Everything else is as before.
        """),
    code("""
        def setup(world):
            fd = world.open_driver(DriverSpec("regular", name="newcam", with_mapped=False,
                                              extra_flags=VmFlags.VM_HUGEPAGE))
            world.mmap(A, 2 * P, RW, MAP_SHARED | MAP_FIXED, fd, 0)
            return {"fd": fd}

        def act(world, ctx):
            return world.mmap(A + 2 * P, 2 * P, RW, MAP_SHARED | MAP_FIXED, ctx["fd"], 2 * P)

        converted = run(Scenario("prepare-sets-flag", "mmap_prepare sets VM_HUGEPAGE",
                                 "The converted driver sets the flag in the descriptor.",
                                 setup, act))
        print(strip(converted.final))
        """, "fragment"),
    frag("**One VMA**: the merge was judged on the flags the driver chose."),
    slide("""
        ## Nothing to undo when the hook says no

        Because no VMA exists yet, a failing `mmap_prepare` leaves nothing behind: the
        kernel jumps to its `abort_munmap` label and returns the error.
        """),
    code("""
        t = record("prepare-fail")
        print(outcome(t))
        print([say(t, e) for e in t.events if e.kind == "hook"])
        """, "fragment"),
    sub("""
        ## One exception: `MAP_FIXED` over an existing mapping

        By the time `mmap_prepare` runs, `__mmap_setup()` has already zapped the old pages
        and called their `->close`. If the hook then fails, the old mapping cannot come
        back: the range is left as a **hole** (spec §6j).
        """),
    code('show_before_after(record("fixed-prepare-fail-hole"))', "-", tags=("hide-input",)),
    slide("""
        ## The rule for driver authors

        `mmap_prepare` must be **free of side effects**: it may fail, and even when it
        succeeds the mapping may still fail later, or merge into an existing VMA.

        - Validate and describe in `mmap_prepare`.
        - Allocate per-mapping state in `vm_ops->mapped` (lesson 05), release it in `close`.
        - hugetlbfs learnt this the hard way: its conversion reserved pages and allocated a
          lock at prepare time, could leak them on a later failure, and was reverted
          (May 2026).
        """),
    *exercises(3, 'record("legacy-mmap-no-merge")', 103,
               "The legacy `.mmap` driver that adds `VM_HUGEPAGE` after the merge decision.",
               scenarios=['legacy-mmap-no-merge', 'prepare-fail', 'file-prepare', 'fixed-prepare-fail-hole']),
]
