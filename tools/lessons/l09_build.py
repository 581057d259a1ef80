from ._cells import code, exercises, frag, md, notes, setup, slide, sub

NAME = "09-build-your-own"
TITLE = "09 · Build your own scenario; the capstone"

CELLS = [
    slide("""
        # 09 · Build your own scenario

        You know the path now. In this last lesson (about 30 minutes) you will compose
        scenarios of your own — with the Scenario Builder, then in code — and finish with a
        **capstone**: predict what three kernel versions do with a driver you have not seen
        in the catalog, then check.
        """),
    setup("""
        import mmviz
        from mmviz import (MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_READ,
                           PROT_WRITE)
        from mmviz.model.drivers import DriverSpec, DRIVER_KINDS, FAIL_POINTS
        from mmviz.model.errno import Errno
        from mmviz.scenarios import Scenario, run
        from mmviz.lessons import (show_builder, show_compare, show_stepper, show_predict,
                                   show_questions, show_program, outcome, strip,
                                   check_reference_answers, reveal_answers)
        from mmviz.lessons.capstone import Capstone
        from mmviz.lessons import lesson_questions

        P = 4096
        RW = PROT_READ | PROT_WRITE
        A = 0x10000000
        """),
    slide("""
        ## The Scenario Builder

        Pick a driver kind, where it fails, whether it hides its VMA from the rmap, what is
        mapped before, and the kernel version; record it and step through the result.
        """),
    code("show_builder()", "-", tags=("hide-input",)),
    sub("""
        ## The same in code: a model driver

        `DriverSpec` describes a driver written against the kernel API of this course:
        """),
    code("""
        print("kinds:      ", ", ".join(DRIVER_KINDS))
        print("fail points:", ", ".join(FAIL_POINTS))
        print(DriverSpec.__doc__)
        """, "fragment"),
    frag("""
        Other knobs: `hide=True` (hide from the rmap), `success_hook=True`,
        `error_hook=-Errno.EAGAIN`, `with_close=True`, `with_mapped=False`, `extra_flags`,
        and `lower=` for a stacked file.
        """),
    sub("""
        ## A scenario is a set-up and an act

        `setup(world)` builds the starting state (not recorded) and returns what `act` needs;
        `act(world, ctx)` makes the one recorded call. `run(scenario, kernel=...)` gives a
        `Trace` like any catalog scenario.
        """),
    code("""
        def setup(world):
            world.mmap(A, 4 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
            return {"fd": world.open_driver(DriverSpec("kernel-pages", name="ring1"))}

        def act(world, ctx):
            return world.mmap(A + P, 2 * P, RW, MAP_SHARED | MAP_FIXED, ctx["fd"], 0)

        ring = Scenario("ring-over-anon", "A ring buffer mapped over anonymous memory",
                        "MAP_FIXED of a kernel-pages driver into the middle of a VMA.",
                        setup, act)
        t = run(ring)
        print(outcome(t))
        print(strip(t.final))
        """, "fragment"),
    sub("""
        ## Step through your scenario

        Every scenario you build records the same kind of trace as the catalog's.
        """),
    code("show_stepper(t)", "-", tags=("hide-input",)),
    slide("""
        ## Capstone, part 1: `capdev`

        `capdev` is a converted device driver. Its `mmap_prepare`:
        - asks for `MMAP_REMAP_PFN` of its registers (`mmap_action_remap_full`),
        - sets `hide_from_rmap_until_complete`,
        - installs a `success_hook` that fails with `-EINVAL`.

        User space maps 4 pages of it with `MAP_SHARED | MAP_FIXED` where nothing is mapped.
        For **baseline**, **v3** and **v4**, predict: what `mmap()` returns, how many VMAs are
        left, and whether the lock checker complains.
        """),
    code("""
        # Your prediction: (what mmap returns, VMAs left, lock checker complains?)
        # e.g. ("-ENOMEM", 0, False), ("ok", 1, False) or ("deadlock", 0, True)
        my_prediction = {
            "baseline": None,
            "v3": None,
            "v4": None,
        }
        """, "fragment"),
    code("""
        # Record your prediction, then check it: right / look again per version, never the
        # answer (three checks). cap.reveal("capdev") shows the answer and why, afterwards.
        cap = Capstone()
        print(cap.predict("capdev", my_prediction))
        print(cap.check("capdev"))
        """, "skip"),
    sub("""
        ## Capstone, part 1: see it

        Compare the version you found hardest to predict with v4: set `hardest` and run the
        cell again.
        """),
    code("""
        hardest = "v3"          # the version you found hardest: "baseline" or "v3"
        show_compare(cap.run("capdev", hardest), cap.run("capdev", "v4"))
        """, "-", tags=("hide-input",)),
    notes("""
        Discussion points: baseline and v3 both return the hook's error without unmapping
        (spec §6i); the rmap lock is released correctly in all three because nothing fails
        before the hook. v4's single error path is what makes the answer "0 VMAs".
        """),
    slide("""
        ## Capstone, part 2: `MAP_FIXED` over memory you had

        A process has 4 pages of anonymous memory at `A`. It maps a file over them with
        `MAP_FIXED`; the file's driver hides its VMA from the rmap and its `->mapped` fails
        with `-EIO`. Predict, for each version, what `mmap()` returns, what is left at `A`,
        and whether the lock checker complains; record it and check it.
        """),
    code("""
        my_prediction_2 = {
            "baseline": None,
            "v3": None,
            "v4": None,
        }
        print(cap.predict("late", my_prediction_2))
        print(cap.check("late"))
        """, "fragment"),
    code("""
        # After your predictions: the answer and why (the reference answers live in
        # mmviz/lessons/capstone.py, not in this notebook).
        # print(cap.reveal("capdev")); print(cap.reveal("late"))
        """, "skip"),
    frag("""
        Even the fixed kernel leaves a **hole**: once `__mmap_setup()` has zapped the old
        pages, a failure can only leave the range empty. Your anonymous memory is gone.
        """),
    slide("""
        ## Your own program

        Type `mmap` / `munmap` / `mprotect` / `touch` calls, one per line, with `base`, `P`
        and constants such as `PROT_READ|PROT_WRITE`; **Run** steps through them with every
        view, **check against this kernel** replays them with real system calls.
        """),
    code("""
        runner = show_program()
        # Start from this notebook's own address space instead:
        # runner = show_program(maps=open("/proc/self/maps").read())
        """, "-", tags=("hide-input",)),
    sub("""
        ## Where to go next

        - The behavioural spec the model is written from, `docs/kernel-mmap-spec.md` in
          this repository: its section numbers are the "spec §" of these lessons.
        - The kernel: `mm/vma.c` (`__mmap_region`, merging), `mm/util.c` (actions, compat),
          `include/linux/mm_types.h` (the structures), `tools/testing/vma/` (the userspace
          VMA tests).
        - This model: `mmviz/model/mmap_region.py`, `vma_merge.py`, `mmap_action.py`; every
          function names the kernel file it mirrors.
        """),
    *exercises(9, 'cap.run("capdev", "baseline")', 109,
               "The capstone driver on the **baseline** kernel."),
]
