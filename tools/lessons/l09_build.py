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
                                   show_questions, outcome, strip, check_reference_answers,
                                   reveal_answers)
        from mmviz.exercises import generate

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
        def capdev_setup(world):
            return {"fd": world.open_driver(DriverSpec(
                "pfn-remap", name="capdev", hide=True, fail={"success_hook": -Errno.EINVAL}))}

        def map_four_pages(world, ctx):
            return world.mmap(A, 4 * P, RW, MAP_SHARED | MAP_FIXED, ctx["fd"], 0)

        capdev = Scenario("capdev", "The capstone driver", "hide + REMAP_PFN + failing "
                          "success_hook", capdev_setup, map_four_pages)

        def observed(trace):
            r = trace.result
            ret = "deadlock" if r.outcome == "deadlock" else (f"-{r.errno}" if r.errno else "ok")
            return (ret, len(trace.final.vmas), bool(trace.violations))

        for kernel, guess in my_prediction.items():
            seen = observed(run(capdev, kernel=kernel))
            verdict = "not predicted yet" if guess is None else (
                "right" if tuple(guess) == seen else "look again")
            print(f"{kernel:8s} {verdict}")
        """, "skip"),
    code("""
        # The reference answer, checked against the model (this is what the tests run).
        CAPDEV_REFERENCE = {
            "baseline": ("-EINVAL", 1, False),  # hook error returned directly: VMA stays
            "v3": ("-EINVAL", 1, False),        # same in v3; the lock was released once
            "v4": ("-EINVAL", 0, False),        # common error path: unlock, then unmap
        }
        for kernel, want in CAPDEV_REFERENCE.items():
            assert observed(run(capdev, kernel=kernel)) == want, kernel
        print("capstone part 1: the reference answer matches the model")
        """, "skip"),
    sub("""
        ## Capstone, part 1: see it

        Compare the version you found hardest to predict with v4.
        """),
    code("""
        show_compare(run(capdev, kernel="v3"), run(capdev, kernel="v4"))
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
        and whether the lock checker complains. Then run the next cell.
        """),
    code("""
        def late_setup(world):
            world.mmap(A, 4 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
            return {"fd": world.open_driver(DriverSpec(
                "regular", name="late", hide=True, fail={"mapped": -Errno.EIO}))}

        late = Scenario("late-mapped-fail", "MAP_FIXED, hidden, ->mapped fails", "",
                        late_setup, map_four_pages)
        for kernel in ("baseline", "v3", "v4"):
            print(f"{kernel:8s}", observed(run(late, kernel=kernel)))
        """, "fragment"),
    code("""
        LATE_REFERENCE = {
            "baseline": ("ok", 1, False),      # no ->mapped in the baseline: nothing fails
            "v3": ("-EIO", 0, True),           # double unlock; the old memory is gone too
            "v4": ("-EIO", 0, False),          # clean error, but still a hole
        }
        for kernel, want in LATE_REFERENCE.items():
            assert observed(run(late, kernel=kernel)) == want, kernel
        print("capstone part 2: the reference answer matches the model")
        """, "skip"),
    frag("""
        Even the fixed kernel leaves a **hole**: once `__mmap_setup()` has zapped the old
        pages, a failure can only leave the range empty. Your anonymous memory is gone.
        """),
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
    *exercises(9, 'run(capdev, kernel="baseline")', 109,
               "The capstone driver on the **baseline** kernel."),
]
