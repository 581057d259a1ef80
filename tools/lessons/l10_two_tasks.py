from ._cells import code, frag, md, notes, setup, slide, sub

NAME = "10-two-tasks"
TITLE = "10 · Two tasks: who waits for whom"

CELLS = [
    slide("""
        # 10 · Two tasks: who waits for whom

        Every lesson so far had one task. The locks of `__mmap_region` exist because there
        are others: a second thread mapping memory, a page fault, a truncation walking the
        file's rmap. In this lesson (about 30 minutes) two tasks run side by side, and the
        lock timeline shows who waits for whom, and why the hide flag exists.
        """),
    setup("""
        import mmviz
        from mmviz.scenarios import record
        from mmviz.exercises_races import race_questions
        from mmviz.lessons import (say, show_stepper, show_timeline, show_explorer,
                                   show_predict, show_questions, check_reference_answers,
                                   reveal_answers)
        """),
    sub("""
        ## How the model runs two tasks

        Each task runs its own program (a system call, a page fault, a truncation) in the
        **same world**. Only one runs at a time. After every event it records, the
        **schedule** decides who runs next: a list of task numbers, one per switch point,
        so the same schedule replays the same run, event for event.

        A task that asks for a lock another task holds **sleeps**; the other task runs and,
        when it releases the lock, wakes it. If every task sleeps, that is a deadlock, and
        the lock checker names the chain.
        """),
    notes("""
        A real scheduler can preempt anywhere, not only between two events, and a real
        rwsem has optimistic spinning and handoff. The model keeps what decides the outcome
        here: who holds what when another asks, writers preferred over later readers
        (spec §9), and the lock order lockdep checks.
        """),
    sub("""
        ## Reading a race's timeline

        | lane | shows |
        |---|---|
        | **A[1] runs** (bold) | the stretches in which task A has the CPU |
        | A[1]: *lock* | a solid bar while A holds it (hatched: for read) |
        | A[1]: *lock*, dotted | A **waits** for it; an arrow points at the task holding it |
        | ✖ on a lane | the lock checker reports a broken rule there |

        The layout adds a badge on each VMA a task has its hands on: *A[1] write-locks*,
        *B[2] walks rmap*, *B[2] zaps pages*.
        """),
    slide("""
        ## A second mmap waits for `mmap_lock`

        Two threads of one process call `mmap()`. A is in the middle of `__mmap_region`
        (its VMA just stored) when B starts. Predict before you look: where does B stop?
        """),
    code('show_timeline(record("race-second-mmap"))', "fragment", tags=("hide-input",)),
    frag("""
        B sleeps in `mmap_write_lock()` (dotted bar, arrow to A's `mmap_lock`) until A's
        `mmap()` is over. One writer of an address space at a time: that is what
        `mmap_lock` is for.
        """),
    slide("""
        ## A page fault on a VMA being mapped

        Thread B touches the new range just after A stored its VMA. The fault tries the
        VMA's own read lock first (`lock_vma_under_rcu`, no `mmap_lock` needed). Step to
        B's first event: what happens to that attempt?
        """),
    code('show_stepper(record("race-fault-waits"), height=430)', "-", tags=("hide-input",)),
    frag("""
        A write-locked the VMA **before** storing it, so that attempt fails at once and
        the fault falls back to `mmap_lock` for read, which waits for A. When B runs again,
        the VMA is finished and its `->mapped` has run. Use **switch ▶** to jump from task
        to task.
        """),
    code("""
        t = record("race-fault-waits")
        for e in t:
            if e.task == 2 and e.kind in ("wait", "note", "lock") and e.depth <= 3:
                print(f"{e.seq:3d} B {say(t, e)}")
        """, "fragment"),
    slide("""
        ## Why the hide flag exists: a walker meets a half-built VMA

        hugetlbfs (converted to `mmap_prepare`) allocates its per-VMA lock in a
        `success_hook`, **after** the VMA is in the file's `i_mmap`. Here is a conversion
        that forgot `hide_from_rmap_until_complete`: B truncates the file just after A's
        `vma_link_file()` let go of `i_mmap_rwsem`.
        """),
    code('show_stepper(record("race-hugetlbfs-no-hide", kernel="v4"), height=400)', "-",
         tags=("hide-input",)),
    frag("""
        B's walk reaches A's VMA before its lock exists: `vm_private_data` is empty, so the
        walker skips it and those pages are never unmapped. The checker calls it
        **half-built**.
        """),
    slide("""
        ## With the flag: the truncation waits

        The same race with the real conversion, on v4: `i_mmap_rwsem` stays held from the
        link until the success_hook has run, so B's truncation **waits** for it.
        """),
    code('show_timeline(record("race-hugetlbfs-truncate", kernel="v4"))', "fragment",
         tags=("hide-input",)),
    sub("""
        ### Reading the timeline: B waits, then walks

        B's dotted bar starts when it asks for `i_mmap_rwsem`. A drops the lock only after
        its success_hook made the VMA lock (A's green bar ends), which wakes B; when B next
        runs it takes the lock (its bar turns solid), walks, and finds the VMA lock.
        """),
    sub("""
        ## v3 left a window: explore every schedule

        The explorer runs the race once per switch point of A and judges each run against
        the serial one. v3 dropped the rmap lock **before** the success_hook:
        """),
    code('show_explorer("race-hugetlbfs-truncate", "v3")', "-", tags=("hide-input",)),
    frag("""
        Six fail: B starts after v3 dropped the rmap lock, before the hooks are done.
        """),
    notes("""
        The six failing schedules are those in which B starts after v3's
        mmap_action_finish() has dropped the rmap lock and before the VMA's hooks have all
        run (the success_hook that allocates the lock among them). Change the kernel to v4
        or mainline in the notebook: every schedule passes.
        From the command line: mmviz explore race-hugetlbfs-truncate --kernel v3 prints the
        same table; -o race.html writes the failing schedule as an offline stepper.
        """),
    slide("""
        ## Locks taken in opposite orders

        A splits a file VMA (`mprotect`): it holds `mmap_lock` and asks for the file's
        `i_mmap_rwsem`. B walks the same file's rmap, holding `i_mmap_rwsem`, and (a bug,
        on purpose) asks for `mmap_lock`.
        """),
    code('show_timeline(record("race-lock-order-deadlock"))', "fragment", tags=("hide-input",)),
    sub("""
        ### Reading the timeline: a cycle of waits

        Two arrows, pointing at each other: each waits for what the other holds. The checker
        flags B's **lock-order** break at the moment B asks, even in a run where nothing
        deadlocks: the kernel's rule is `mmap_lock` before `i_mmap_rwsem` (mm/rmap.c).
        """),
    md("""
        ## What to take away

        - `mmap_lock` serialises writers of one address space; faults and `/proc/pid/maps`
          readers use it for read, or a VMA's own read lock when they can.
        - A new VMA is write-locked **before** it is visible in the tree, so a fault waits
          for it to be finished.
        - `i_mmap_rwsem` guards the file's rmap; a VMA hidden from rmap keeps it held until
          the VMA is complete, which is what makes a `success_hook` safe.
        - A race is a schedule: the explorer tries them, the stepper replays one.
        """, "subslide"),
    slide("""
        ## Exercises

        1. **Predict.** Step through the hugetlbfs truncation race on v4; the widget stops
           before key events, one of them a wait, and asks what happens next.
        2. **Questions.** Generated from seed `110` from the races and their explored
           schedules: change the seed for a fresh set.
        3. **Check.** The last cell checks the reference answers (it is how the lesson is
           tested); reveal them when you have tried.
        """),
    code('show_predict(record("race-hugetlbfs-truncate", kernel="v4"))', "subslide"),
    code("questions = race_questions(110, n=4)\nshow_questions(questions)", "subslide"),
    code("print(check_reference_answers(questions))", "skip"),
    code("# Uncomment to see the reference answers and why:\n# reveal_answers(questions)",
         "skip"),
]
