from ._cells import code, exercises, frag, notes, setup, slide, sub

NAME = "11-the-rest-of-the-address-space"
TITLE = "11 · mremap, fork and the anonymous rmap, madvise and mlock"

CELLS = [
    slide("""
        # 11 · The rest of the address space

        `mmap`, `munmap` and `mprotect` are not the only calls that change VMAs. In this
        lesson (about 30 minutes) you will **move** a mapping with `mremap`, **fork** a
        process and see why its child cannot merge what the parent can, walk the
        **anonymous rmap** from a page to every process that maps it, and split VMAs with
        `madvise` and `mlock`. Every rule shown here was checked against Linux 6.18 by the
        differential tests of mmviz.
        """),
    setup("""
        import mmviz
        from mmviz import (World, PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS, MAP_FIXED,
                           MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP, MADV_DONTFORK,
                           MADV_WIPEONFORK)
        from mmviz.scenarios import record
        from mmviz.lessons import (show_stepper, show_predict, show_questions, strip,
                                   snapshot_of, check_reference_answers, reveal_answers)
        from mmviz.lessons import lesson_questions
        from mmviz.lessons import show_rmap_walk
        from mmviz.render.rmap_view import rmap_walk_text

        P = 4096
        RW = PROT_READ | PROT_WRITE
        ANON = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED
        A = 0x10000000
        MOVE = MREMAP_MAYMOVE | MREMAP_FIXED
        """),
    slide("""
        ## `mremap`: shrink, grow, move

        `mremap(addr, old_size, new_size, flags, new_addr)` resizes the mapping at `addr`:
        - a **shrink** unmaps the tail (even across other VMAs);
        - a **growth** extends the VMA in place if the pages after it are free (and merges
          with the next VMA if it can); otherwise, with `MREMAP_MAYMOVE`, it moves;
        - `MREMAP_FIXED` moves to `new_addr`, replacing what is there; since Linux 6.17 a
          move of unchanged size may span several VMAs and keeps the gaps between them.
        """),
    code("""
        w = World()
        w.mmap(A, 4 * P, RW, ANON)
        w.mmap(A + 6 * P, 2 * P, RW, ANON)
        print(hex(w.mremap(A, 4 * P, 6 * P, 0)))       # grows into the gap: merges with [6,8)
        print(strip(w))
        w.mmap(A + 8 * P, 2 * P, PROT_READ, ANON)       # something right after it
        print(w.mremap(A, 8 * P, 12 * P, 0))            # no room, no MAYMOVE: -ENOMEM (-12)
        print(hex(w.mremap(A, 8 * P, 12 * P, MREMAP_MAYMOVE)))   # moves elsewhere
        """, "fragment"),
    sub("""
        ## Where a moved VMA's pgoff goes

        An anonymous VMA's `vm_pgoff` is normally its first virtual page number, which is
        why neighbours are "pgoff-contiguous". A move changes the address, so what becomes
        of the pgoff?

        - a VMA that **never had a page** takes the pgoff of its new address
          (`copy_vma`: "to increase its chance of merging");
        - a VMA **with pages keeps** its old pgoff: each anonymous page remembers the linear
          index it was faulted at, and `rmap_walk_anon` finds the page's mappings by it.
        """),
    code("""
        w = World()
        w.mmap(A, 4 * P, RW, ANON); w.touch(A)            # written: it has pages
        w.mmap(A + 20 * P, 4 * P, RW, ANON)
        w.mremap(A, 4 * P, 4 * P, MOVE, A + 24 * P)        # next to [20,24): no merge
        print(strip(w))
        """, "fragment"),
    frag("""
        The moved VMA still has pgoff `0x10000`, the page number of its *old* address, so it
        is not contiguous with `[20,24)` (pgoff `0x10014`). Move it back next to a fresh VMA
        at page 4 and the pgoffs line up again:
        """),
    code('show_stepper(record("mremap-move-merge"))', "subslide", tags=("hide-input",)),
    notes("""
        Point at vma_merge_copied_range: the destination merge is an ordinary new-range
        merge that also remembers the VMA it copies (copied_from). vma_expand then gives the
        unfaulted VMA at page 4 the moved VMA's anon_vma, so the moved pages stay reachable
        by rmap. move_page_tables takes the rmap locks because the merged VMA precedes the
        source in rmap order.
        """),
    slide("""
        ## `fork`: two address spaces, one set of pages

        `fork()` copies the parent's VMAs into a new address space (`dup_mmap`). The pages are
        **shared** and write-protected in both: the first write in either copies the page
        (copy-on-write). To find all mappings of a shared anonymous page, the child's VMA is
        linked to the parent's `anon_vma` **and** gets one of its own (`anon_vma_fork`):
        its chain of `anon_vma_chain` links has two entries.
        """),
    code("""
        w = World()
        w.mmap(A, 4 * P, RW, ANON)
        w.touch(A, 1)
        child = w.fork()
        child.touch(A, 2)                          # the child copies the page
        print("parent reads", w.load(A), "- child reads", child.load(A))
        (cv,) = child.vmas(A, A + 4 * P)
        print("child chain:", [link.anon_vma for link in cv.anon_vma_chain])
        """, "fragment"),
    sub("""
        ## The rmap walk from a page

        Reclaim and migration start from a **page**: which processes map it? For an
        anonymous page, `rmap_walk_anon` takes the page's `anon_vma` and visits every VMA
        linked to it whose pgoff range covers the page's index — in the parent and in every
        child. No `mmap_lock` is taken: only the anon_vma tree's root lock, for read.
        """),
    code("""
        w = World()
        w.mmap(A, 8 * P, RW, ANON)
        w.touch(A + P, 1)
        c = w.fork()
        g = c.fork()                               # a grandchild
        c.mremap(A, 8 * P, 8 * P, MOVE, A + 20 * P)  # the child moves its copy
        g.touch(A + P, 3)                          # the grandchild copies the page
        walk = w.rmap_walk(A + P)
        print(rmap_walk_text(walk))
        """, "fragment"),
    sub("### Who maps the page: the walk, process by process"),
    code('show_rmap_walk(walk, w, "lanes")', "-", tags=("hide-input",)),
    sub("### Why it finds them: the anon_vma tree the forks built"),
    code('show_rmap_walk(walk, w, "tree")', "-", tags=("hide-input",)),
    notes("""
        The child's VMA moved to 0x10014000 but is still visited (its pgoff was kept); the
        grandchild's VMA is visited too but no longer maps the page: it has its own copy,
        in its own anon_vma, which only the grandchild's walk would find.
        """),
    sub("""
        ## Why a fork child cannot merge what its parent can

        A new mapping next to a written VMA would have to share that VMA's `anon_vma`. The
        kernel refuses that when the VMA is a **fork child** (its chain has more than one
        link): merging would drag the whole fork tree's rmap into the new range. The
        parent's chain is still a single link, so the parent may merge.
        """),
    code('show_stepper(record("fork-child-no-merge"))', "-", tags=("hide-input",)),
    code('show_predict(record("fork-child-no-merge"))', "subslide"),
    sub("""
        ## What fork copies: `MADV_DONTFORK`, `MADV_WIPEONFORK`, `mlock`

        - `MADV_DONTFORK` (`VM_DONTCOPY`): the range is a **hole** in the child;
        - `MADV_WIPEONFORK` (`VM_WIPEONFORK`): the child gets the range **zeroed** and
          unfaulted (so it merges like a fresh mapping);
        - `mlock` is **not** inherited: the child's VMAs never have `VM_LOCKED`.
        """),
    code("""
        w = World()
        w.mmap(A, 6 * P, RW, ANON)
        w.touch(A, 7); w.touch(A + 4 * P, 9)
        w.madvise(A + 2 * P, 2 * P, MADV_DONTFORK)   # splits [0,6) in three
        w.madvise(A + 4 * P, 2 * P, MADV_WIPEONFORK)
        c = w.fork()
        print(strip(c))
        print("page 4: parent", w.load(A + 4 * P), "child", c.load(A + 4 * P))
        """, "fragment"),
    slide("""
        ## `madvise` and `mlock` change flags, so they split and merge

        Advice such as `MADV_DONTFORK`, `MADV_DONTDUMP` or `MADV_RANDOM`, and `mlock`, set a
        VMA flag on a range: like `mprotect` they go through `vma_modify_flags()`, which
        merges the range with an identical neighbour or splits the VMA. Undoing the advice
        merges the pieces back. Two differences to remember: a failed split is `-EAGAIN`
        for madvise (`-ENOMEM` for mprotect and mlock), and `mlock` of `PROT_NONE` memory
        fails with `-ENOMEM` although the VMA stays locked.
        """),
    code('show_stepper(record("mlock-split"))', "-", tags=("hide-input",)),
    code("""
        w = World()
        w.mmap(A, 8 * P, RW, ANON)
        print(w.mlock(A + 2 * P, 2 * P), w.mm.locked_vm, "pages locked")
        print(strip(w))
        print(w.munlock(A + 2 * P, 2 * P))
        print(strip(w))                             # merged back
        """, "fragment"),
    notes("""
        locked_vm is per mm. A DONTUNMAP mremap of a locked VMA over-counts it for the life of
        the process (the old VMA loses VM_LOCKED without locked_vm going down); the model
        reproduces it, see test_mremap.py::test_r9.
        """),
    *exercises(11, 'record("mremap-move-merge")', 111,
               "An mremap move that merges at its destination.",
               scenarios=["mremap-move-merge", "fork-child-no-merge", "mlock-split"]),
]
