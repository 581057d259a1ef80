from ._cells import code, exercises, frag, md, notes, setup, slide, sub

NAME = "05-actions-and-hooks"
TITLE = "05 · Actions and hooks"

CELLS = [
    slide("""
        # 05 · Actions and hooks

        `mmap_prepare` runs before the VMA exists, so a driver cannot fill page tables
        there. Instead it **describes** the work as an `mmap_action`, and the kernel carries
        it out once the VMA is in place. In this lesson (about 25 minutes): the action types,
        what happens when an action fails, the success and error hooks, and `->mapped`.
        """),
    setup("""
        import mmviz
        from mmviz import MAP_SHARED, MAP_FIXED, PROT_READ, PROT_WRITE
        from mmviz.model.drivers import DriverSpec
        from mmviz.model.errno import Errno
        from mmviz.scenarios import Scenario, record, run
        from mmviz.lessons import (say, show_stepper, show_predict, show_questions, outcome, strip,
                                   check_reference_answers, reveal_answers)
        from mmviz.lessons import lesson_questions

        P = 4096
        A = 0x10000000
        """),
    sub("""
        ## The actions (`desc->action.type`)

        | type | set with | does, after the VMA exists |
        |---|---|---|
        | `MMAP_NOTHING` | (default) | nothing |
        | `MMAP_REMAP_PFN` | `mmap_action_remap[_full]()` | fill page tables with raw PFNs |
        | `MMAP_IO_REMAP_PFN` | `mmap_action_ioremap[_full]()` | becomes `REMAP_PFN` in prepare |
        | `MMAP_SIMPLE_IO_REMAP` | `mmap_action_simple_ioremap()` | the old `vm_iomap_memory()`; becomes `REMAP_PFN` |
        | `MMAP_MAP_KERNEL_PAGES` | `mmap_action_map_kernel_pages[_full]()` | insert the driver's pages, like `vm_insert_pages()` |

        Drivers use the setter helpers, never the fields by hand.
        """),
    slide("""
        ## Run: a device maps its memory with `MMAP_REMAP_PFN`

        Prepare checks the range and sets `VM_IO | VM_PFNMAP | VM_DONTEXPAND |
        VM_DONTDUMP`. The PFNs are written only at S10, when the VMA exists.
        """),
    code('show_stepper(record("remap-pfn"))', "-", tags=("hide-input",)),
    sub("""
        ## Prepare rewrites the action

        Follow the pending action through each trace: the I/O variants are converted to a
        plain `MMAP_REMAP_PFN` during prepare, so completion knows only two kinds of work.
        Every action leaves the VMA `VM_SPECIAL`.
        """),
    code("""
        for name in ["remap-pfn", "io-remap", "simple-ioremap", "map-kernel-pages"]:
            t = record(name)
            types = []
            for e in t:
                a = e.snapshot.pending_action
                if a and (not types or types[-1] != a.type):
                    types.append(a.type)
            special = [f for f in t.final.vmas[0].flags
                       if f in ("VM_IO", "VM_PFNMAP", "VM_MIXEDMAP", "VM_DONTEXPAND")]
            print(f"{name:17s} {' -> '.join(types[1:]):60s} {' '.join(special)}")
        """, "fragment"),
    frag("""
        `VM_SPECIAL` VMAs never merge, so **an action and a merge never meet**: only
        `MMAP_NOTHING` mappings can merge.
        """),
    slide("""
        ## When the action fails (v4, spec §3.3)

        The VMA is already in the tree and in the file's rmap. `mmap_action_finish()` then:

        1. calls `vm_ops->mapped` — only if the action succeeded;
        2. calls `success_hook(vma)` — only if everything so far succeeded;
        3. releases the rmap lock if the VMA was hidden (lesson 06);
        4. on error: `do_munmap()` the new VMA, then `error_hook(err)`, which may replace
           the error (but must not clear it).

        In **mainline** the two hooks are gone: one field, `action.error_override`, replaces
        the error after the unmap (and `check_mmap_action()` refuses a value that is not an
        errno). The first version (baseline) had only three action types and no `->mapped`.
        """),
    sub("""
        ## Run: the remap fails at completion

        Jump to **error ▶**: the VMA exists, the remap fails, finish unmaps it again.
        """),
    code('show_stepper(record("remap-pfn-fail"))', "-", tags=("hide-input",)),
    sub("""
        ## The error hook can change what user space sees

        Our own scenario: the same failing device, with an `error_hook` that turns any error
        into `-EAGAIN`.
        """),
    code("""
        def setup(world):
            return {"fd": world.open_driver(DriverSpec(
                "pfn-remap", name="fb1", fail={"action_complete": -Errno.ENOMEM},
                error_hook=-Errno.EAGAIN))}

        def act(world, ctx):
            return world.mmap(A, 4 * P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
                              ctx["fd"], 0)

        print(outcome(run(Scenario("error-hook", "error_hook says EAGAIN", "", setup, act))))
        """, "fragment"),
    sub("""
        ## A real one: `/dev/mem` (drivers/char/mem.c)

        `/dev/mem`'s `mmap_prepare` asks for the physical pages at the file offset and, as the
        old `.mmap` did when `remap_pfn_range()` failed, reports any failure as `-EAGAIN`: an
        `error_hook` up to v4, `error_override = -EAGAIN` in mainline. The same answer, two
        mechanisms:
        """),
    code("""
        for kernel in ("baseline", "v3", "v4", "mainline"):
            t = record("devmem-eagain", kernel=kernel)
            how = [say(t, e) for e in t if e.fn == "error_hook" and e.kind == "hook"
                   or e.what == "error_overridden"][:1]
            print(f"{kernel:9s} {t.result.summary():8s} {how[0] if how else ''}")
        """, "fragment"),
    frag("""
        And an `error_override` written without its minus sign is caught before any VMA
        exists (`error-override-invalid`): `check_mmap_action()` WARNs and `mmap()` fails with
        `-EINVAL`. Earlier kernels have no such field: the scenario is *not possible* there.
        """),
    slide("""
        ## A success hook that fails

        The action succeeds, then `success_hook` returns `-EINVAL`. What should `mmap()`
        return, and should the mapping stay?
        """),
    code("""
        for kernel in ("baseline", "v3", "v4", "mainline"):
            t = record("success-hook-fail", kernel=kernel)
            print(f"{outcome(t)}; VMAs left: {len(t.final.vmas)}")
        """, "fragment"),
    frag("""
        Before v4 the error went straight back to user space **while the VMA stayed
        mapped**: `mmap()` said "failed" about a mapping that existed (spec §6i). v4 sends
        it down the common error path, which unmaps. Mainline has no `success_hook` at all:
        there the scenario is *not possible*.
        """),
    slide("""
        ## `vm_ops->mapped`: the place for per-mapping state

        `mapped(start, end, pgoff, file, &private_data)` runs **once**, for a **new** VMA
        created through `mmap_prepare`, after its action succeeded. Failing it unmaps the
        VMA. It is where a driver takes references or allocates, because by then the
        mapping really exists (pair it with `close`).
        """),
    sub("""
        ## But a merge never calls `->mapped`

        The same file is mapped again right after an existing mapping, same flags, next
        offset: the range merges, so no VMA is created and neither the action nor
        `->mapped` runs.
        """),
    code("""
        t = record("file-merge-skips-mapped")
        print(strip(t.final))
        print(next(say(t, e) for e in t if say(t, e).startswith("the driver saw")))
        print("(the counts include the first mapping, made during set-up)")
        """, "fragment"),
    frag("""
        And S8 still copies the descriptor's `vm_ops` and `private_data` onto the merged,
        pre-existing VMA. **A driver must not assume one `->mapped` per `mmap()` call.**
        """),
    notes("""
        This mirrors open/close: they are not called on merge either. The driver checklist
        on the next slide is worth leaving up while students do the exercises.
        """),
    slide("""
        ## A reference taken in `mmap_prepare` (the afs lesson, spec §6d5)

        Under `.mmap`, drivers took references there because the mapping "will now
        succeed". A converted driver that keeps doing it in `mmap_prepare` counts one
        reference per `mmap()` call — but a merge creates no VMA, and no `close` will ever
        drop that reference. The v4 cover letter names afs, which "wrongly manipulated
        reference count at mmap_prepare time"; the fix is `->mapped`.
        """),
    code("""
        for name in ("refcount-prepare-merge", "refcount-mapped-merge"):
            t = record(name)
            print(f"{name:24s}", [say(t, e) for e in t
                                  if e.what in ("driver_refs", "driver_ref_leak")])
        """, "fragment"),
    frag("""
        In the merged mapping, one VMA holds **two** references with prepare, **one** with
        `->mapped`: its single `close` balances only the second.
        """),
    sub("""
        ## Checklist for a driver author

        - `mmap_prepare`: validate, set flags, `vm_ops`, private data, choose the action. No
          allocation, no references, nothing to undo.
        - Actions instead of `remap_pfn_range()` / `vm_insert_pages()` in the hook.
        - Per-mapping state in `->mapped`, released in `close`; expect merges to skip it.
        - Expect the VMA to be unmapped if anything after prepare fails.
        """),
    *exercises(5, 'record("remap-pfn-fail")', 105,
               "A device whose PFN remap fails with `-ENOMEM` at completion.",
               scenarios=['remap-pfn', 'remap-pfn-fail', 'success-hook-fail', 'file-merge-skips-mapped', 'map-kernel-pages', 'io-remap', 'devmem-eagain', 'refcount-prepare-merge']),
]
