from ._cells import code, exercises, frag, md, notes, setup, slide, sub

NAME = "00-welcome-and-tour"
TITLE = "00 · Welcome: how Linux maps memory"

CELLS = [
    slide("""
        # 00 · Welcome: how Linux maps memory

        **mmviz** runs a model of the Linux kernel's `mmap()` path in Python and lets you
        step through it, one kernel function at a time.

        In this first lesson (about 15 minutes) you will:
        - make your first mapping and read it back the way Linux prints it,
        - record a *trace* of one `mmap()` call and step through it,
        - see how every lesson ends: with a prediction and a few questions.

        Run each cell with **Shift-Enter**. Nothing here touches your machine's memory
        except where a lesson says so.
        """),
    notes("""
        Ask who has written a driver's mmap handler, and who has only ever called mmap()
        from user space. Both groups are served: lessons 00-02 are user-space views, 03-08
        are the kernel side, 09 puts it together.
        """),
    setup("""
        import mmviz
        from mmviz import World, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS, MAP_FIXED
        from mmviz.scenarios import names, record, get
        from mmviz.lessons import (say, show_stepper, show_predict, show_questions, outcome, strip,
                                   check_reference_answers, reveal_answers)
        from mmviz.lessons import lesson_questions

        P = 4096                      # one page
        RW = PROT_READ | PROT_WRITE
        A = 0x10000000                # an address that is easy to read
        """),
    sub("""
        ## The plan

        | lesson | what you will see |
        |---|---|
        | 01 | your own process's address space, loaded into the model |
        | 02 | when VMAs merge and split, checked against the real kernel |
        | 03 | why drivers are moving from `.mmap` to `.mmap_prepare` |
        | 04 | `__mmap_region`, step by step |
        | 05 | actions, `->mapped` and the success/error hooks |
        | 06 | the file rmap lock, and hiding a VMA from it |
        | 07 | anatomy of a fix: a deadlock, a double unlock, and v4 |
        | 08 | the compatibility path and kernels without an MMU |
        | 09 | build your own scenario; the capstone |
        """),
    sub("""
        ## Three words

        - **Address space**: the range of virtual addresses one process can use. Linux keeps
          one `struct mm_struct` per process.
        - **VMA** (`struct vm_area_struct`): one stretch `[vm_start, vm_end)` of that space
          where every page has the same permissions and the same backing (a file, or
          anonymous memory).
        - **`mmap()`**: the system call that creates VMAs. `munmap()` removes them,
          `mprotect()` changes their permissions, and all three may merge or split VMAs.
        """),
    sub("""
        ## Your first mapping

        `World()` is a whole modelled machine with one process. Its methods take the same
        numbers as the system calls and return what they return.
        """),
    code("""
        w = World()
        addr = w.mmap(A, 4 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
        print(hex(addr))
        print(w.proc_maps())
        """, "fragment"),
    frag("""
        That line is exactly what `/proc/self/maps` would show: start-end, permissions
        (`p` = private), file offset, device, inode, and a name (empty: anonymous memory).
        """),
    sub("""
        ## The same mapping as a picture

        `strip()` draws one letter per page and one legend line per VMA, like the kernel's
        own VMA tests do. A second mapping right after the first *merges* with it:
        """),
    code("""
        w.mmap(A + 4 * P, 2 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
        print(strip(w))
        """, "fragment"),
    notes("""
        The pgoff of an anonymous VMA is its virtual page number (0x10000 for 0x10000000),
        which is why two adjacent anonymous VMAs always have contiguous pgoffs. Lesson 02
        comes back to this.
        """),
    slide("""
        ## Scenarios and traces

        The lessons use a **catalog** of named scenarios. Recording one runs the model and
        keeps every step: which kernel function ran, what it said, which locks were held and
        what the address space looked like.
        """),
    code("""
        for name in names():
            title = get(name).title
            print(f"{name:24s} {title if len(title) <= 60 else title[:59] + '…'}")
        """, "-", tags=("hide-input",)),
    sub("""
        ## Record one

        `record(name, kernel=...)` returns an immutable `Trace`. Four kernel variants are
        modelled: `baseline` (October 2025), `v3` and `v4` (March 2026) of the
        `mmap_prepare` series, and `mainline` (May 2026); `v4` is the default.
        """),
    code("""
        t = record("anon-new")
        print(outcome(t))
        print(len(t), "events; the last one says:")
        print(say(t, t[-1]))
        """, "fragment"),
    slide("""
        ## Step through it

        ▶ steps forward, ◀ back; the slider jumps. The address-space picture, the locks held
        and the model's source line follow every step.
        """),
    code('show_stepper(record("anon-new"))', "-", tags=("hide-input",)),
    notes("""
        Walk the class through: mmap_lock taken for write at the top, do_mmap choosing an
        address (top-down, so the VMA lands high), __mmap_region finding nothing to merge
        with, the new VMA write-locked before it is stored, and the lock dropped at the end,
        which also drops the per-VMA write lock.
        """),
    sub("""
        ## How to read a step

        - **kind**: `call`/`return` of a kernel function, `lock`/`unlock`, `hook` (a driver
          callback), `vma` (the tree changed), `note`, `warn`, `error`, `violation`.
        - **step** `S0`-`S11`: the numbered stages of `__mmap_region` (lesson 04).
        - **locks held** after the step: `mmap_lock`, `vma_lock(vma#N)`,
          `i_mmap_rwsem(FILE)`.
        """),
    code("""
        for e in t.events[1:8]:
            print(f"{e.seq:3d} {e.kind:7s} {'  ' * e.depth}{say(t, e)}  {list(e.locks_held)}")
        """, "fragment"),
    sub("""
        ## The same from a terminal

        ```console
        $ mmviz scenarios                  # the catalog
        $ mmviz trace anon-new             # the numbered transcript
        $ mmviz slides -o build/slides     # these lessons as offline slides
        ```

        Every lesson ends the same way: you **predict** what a call will do before you see
        it, then answer a few generated questions.
        """),
    *exercises(0, 'record("anon-merge-both")', 100,
               "Two anonymous VMAs with a one-page hole between them; the hole gets mapped.",
               scenarios=['anon-new', 'anon-merge-both', 'file-prepare']),
]
