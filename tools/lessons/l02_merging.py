from ._cells import code, exercises, frag, md, notes, setup, slide, sub

NAME = "02-merging-and-splitting"
TITLE = "02 · Merging and splitting"

CELLS = [
    slide("""
        # 02 · Merging and splitting

        `mmap`, `munmap` and `mprotect` do not only add and remove VMAs: they **merge**
        neighbours into one and **split** one into several. In this lesson (about 25
        minutes) you will learn the merge rules, watch a three-way merge, split VMAs with
        `mprotect` and `munmap`, and check every answer of the model **against the real
        kernel** of the machine running this notebook.
        """),
    setup("""
        import mmviz
        from mmviz import (World, PROT_READ, PROT_WRITE, PROT_NONE, MAP_PRIVATE, MAP_SHARED,
                           MAP_ANONYMOUS, MAP_FIXED)
        from mmviz.scenarios import record
        from mmviz.live import available
        from mmviz.lessons import (show_stepper, show_predict, show_questions, strip,
                                   live_compare, check_reference_answers, reveal_answers)
        from mmviz.lessons import lesson_questions

        P = 4096
        RW = PROT_READ | PROT_WRITE
        ANON = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED
        A = 0x10000000
        """),
    sub("""
        ## When may two VMAs be one?

        A new range merges with a neighbour only if **all** of these hold (spec §5):
        1. they touch: `prev.vm_end == start` (or `end == next.vm_start`);
        2. the same flags, ignoring a few "sticky" bits such as `VM_SOFTDIRTY`;
        3. the same `struct file` (the same *open file*, not just the same inode);
        4. contiguous file offsets: `prev.vm_pgoff + pages(prev) == pgoff`;
        5. compatible `anon_vma`s (the anonymous rmap; more below);
        6. no `VM_SPECIAL` flag (`VM_IO`, `VM_PFNMAP`, `VM_MIXEDMAP`, `VM_DONTEXPAND`).

        Why bother? Fewer VMAs mean a smaller tree, faster lookups on every page fault, and
        more room under `vm.max_map_count`.
        """),
    slide("""
        ## Merging: mapping next to a VMA

        Private anonymous memory has `vm_pgoff = vm_start >> 12`, so adjacent anonymous
        VMAs are always offset-contiguous: they merge whenever their flags agree.
        """),
    code("""
        w = World()
        w.mmap(A, 2 * P, RW, ANON)
        w.mmap(A + 2 * P, 2 * P, RW, ANON)          # right after: merges
        w.mmap(A + 4 * P, 2 * P, PROT_READ, ANON)   # read-only: flags differ, no merge
        print(strip(w))
        """, "fragment"),
    sub("""
        ## Filling a hole merges three VMAs into one

        Two VMAs with a one-page hole; the hole is mapped with the same flags.
        `vma_merge_new_range()` extends the left VMA over the hole **and** over the right
        one, which is freed: the new range never becomes a VMA of its own.
        """),
    code('show_stepper(record("anon-merge-both"))', "-", tags=("hide-input",)),
    notes("""
        Use the **vma ▶** jump (it stops where a VMA is created, changed or removed): vma#1
        grows to [0x10000000,0x10005000) and vma#2 is merged away. Both are write-locked
        first. map_count goes from 2 to 1.
        """),
    slide("""
        ## Splitting: `mprotect` and `munmap` in the middle

        Changing the protection of one page in the middle of a VMA cuts it in three; giving
        the page its old protection back lets the three merge again. Unmapping a page in the
        middle leaves two.
        """),
    code("""
        w = World()
        w.mmap(A, 3 * P, RW, ANON)
        w.mprotect(A + P, P, PROT_READ)
        print(strip(w))
        w.mprotect(A + P, P, RW)
        print(strip(w))
        w.munmap(A + P, P)
        print(strip(w))
        """, "fragment"),
    slide("""
        ## Is the model right? Ask the kernel

        `mmviz.live` replays the same calls with real system calls inside a private window of
        this notebook's own process (at 17 TiB, with a guard page on each side) and reads
        `/proc/self/maps`. A **script** takes the object to call and the window's base
        address, so the very same code runs on the model and on Linux:
        """),
    code("""
        def split_and_heal(sys, base):
            sys.mmap(base, 6 * P, RW, ANON)
            sys.mprotect(base + 2 * P, 2 * P, PROT_READ)   # split in three
            sys.munmap(base + 5 * P, P)                    # trim the end
            sys.mprotect(base + 3 * P, P, RW)              # heal one page of the middle

        live_compare(split_and_heal)
        """, "fragment"),
    frag("""
        Pages are counted from the window's base. Where the notebook does not run on Linux,
        only the model's column is filled in and the reason is shown instead.
        """),
    notes("""
        The window is MAP_FIXED_NOREPLACE-claimed, so it can never replace anything of the
        Python process; all calls are range-checked before they reach the kernel. Invite
        students to edit the script and re-run: every variation is checked against Linux.
        """),
    slide("""
        ## Files: the same *open file*, contiguous offsets

        Two mappings of one file merge only through the same `struct file`. `dup()` gives a
        new descriptor for the same open file, so it still merges; opening the file again
        (`/proc/self/fd/N`) makes a new `struct file`, so it does not.
        """),
    code("""
        def two_opens(sys, base):
            fd = sys.memfd_create("notes")
            sys.ftruncate(fd, 16 * P)
            sys.mmap(base, 2 * P, RW, MAP_SHARED | MAP_FIXED, fd, 0)
            sys.mmap(base + 2 * P, 2 * P, RW, MAP_SHARED | MAP_FIXED, sys.dup(fd), 2 * P)
            sys.mmap(base + 4 * P, 2 * P, RW, MAP_SHARED | MAP_FIXED, sys.reopen(fd), 4 * P)
            sys.mmap(base + 6 * P, 2 * P, RW, MAP_SHARED | MAP_FIXED, fd, 9 * P)

        live_compare(two_opens)
        """, "fragment"),
    frag("""
        The first two merge (same open file, offsets 0-1 then 2-3). The re-opened file
        does not, and neither does the last mapping: same file, but offset 9 is not 6.
        """),
    slide("""
        ## `anon_vma`: written pages remember their VMA

        The first **write** to private memory creates an `anon_vma`, the structure the
        kernel uses to find every mapping of an anonymous page. Two VMAs with *different*
        `anon_vma`s never merge. A read-only touch maps the shared zero page and creates
        nothing.
        """),
    code("""
        def two_histories(sys, base):
            sys.mmap(base, 2 * P, RW, ANON); sys.touch(base)              # A, written
            sys.mmap(base + 4 * P, 2 * P, RW, ANON); sys.touch(base + 4 * P)  # C, written
            sys.mmap(base + 2 * P, 2 * P, RW, ANON)                      # fill the gap

        live_compare(two_histories)
        """, "fragment"),
    frag("""
        The gap merges with A only: A and C each got their own `anon_vma`, and one VMA
        can have only one.
        """),
    slide("""
        ## `MAP_FIXED` over an existing mapping

        `MAP_FIXED` replaces whatever is there: `__mmap_setup()` splits the old VMA, detaches
        the middle, zaps its pages and calls `->close`; the new VMA takes the freed slots.
        """),
    code('show_stepper(record("fixed-replace"))', "-", tags=("hide-input",)),
    sub("""
        ## `mprotect` is not all-or-nothing

        `mprotect` walks the range VMA by VMA. If it meets a hole it returns `-ENOMEM` —
        but the VMAs before the hole have **already** changed.
        """),
    code("""
        def over_a_hole(sys, base):
            sys.mmap(base, 2 * P, RW, ANON)
            sys.mmap(base + 3 * P, 2 * P, RW, ANON)
            print(type(sys).__name__, "mprotect returns", sys.mprotect(base, 5 * P, PROT_READ))

        live_compare(over_a_hole)
        """, "fragment"),
    notes("""
        A good moment to say why the model is checked against the kernel: this partial
        behaviour is easy to get wrong in a model and is exactly what the differential
        tests in tests/ catch.
        """),
    *exercises(2, 'record("fixed-replace")', 102,
               "Anonymous memory mapped with `MAP_FIXED` over the middle of a file mapping.",
               scenarios=['anon-merge-both', 'fixed-replace', 'anon-new']),
]
