from ._cells import code, exercises, frag, md, notes, setup, slide, sub

NAME = "01-address-spaces-and-vmas"
TITLE = "01 · Address spaces and VMAs"

CELLS = [
    slide("""
        # 01 · Address spaces and VMAs

        A real process has hundreds of VMAs. In this lesson (about 20 minutes) you will:
        - read the address space of the Python process running this notebook,
        - load it into the model with `World.from_maps()` and draw it,
        - learn the fields of a VMA that the rest of the course relies on.
        """),
    setup("""
        import sys
        import mmviz
        from mmviz import World
        from mmviz.model.vm_flags import flag_names
        from mmviz.scenarios import record
        from mmviz.lessons import (show_layout, show_predict, show_questions, strip,
                                   summarize_maps, maps_excerpt, compact_maps,
                                   check_reference_answers,
                                   reveal_answers)
        from mmviz.lessons import lesson_questions

        # A small stand-in for /proc/self/maps where this notebook does not run on Linux.
        SAMPLE_MAPS = '''\\
        55d0c3a00000-55d0c3a01000 r--p 00000000 fe:00 131090                     /usr/bin/python3.11
        55d0c3a01000-55d0c3a02000 r-xp 00001000 fe:00 131090                     /usr/bin/python3.11
        55d0c3a02000-55d0c3a03000 r--p 00002000 fe:00 131090                     /usr/bin/python3.11
        55d0c3a03000-55d0c3a04000 rw-p 00003000 fe:00 131090                     /usr/bin/python3.11
        55d0c4c5f000-55d0c4d60000 rw-p 00000000 00:00 0                          [heap]
        7f3a1c000000-7f3a1c021000 rw-p 00000000 00:00 0 
        7f3a1e200000-7f3a1e228000 r--p 00000000 fe:00 132700                     /usr/lib/x86_64-linux-gnu/libc.so.6
        7f3a1e228000-7f3a1e3bd000 r-xp 00028000 fe:00 132700                     /usr/lib/x86_64-linux-gnu/libc.so.6
        7f3a1e3bd000-7f3a1e415000 r--p 001bd000 fe:00 132700                     /usr/lib/x86_64-linux-gnu/libc.so.6
        7f3a1e415000-7f3a1e419000 r--p 00214000 fe:00 132700                     /usr/lib/x86_64-linux-gnu/libc.so.6
        7f3a1e419000-7f3a1e41b000 rw-p 00218000 fe:00 132700                     /usr/lib/x86_64-linux-gnu/libc.so.6
        7ffd4c8e5000-7ffd4c906000 rw-p 00000000 00:00 0                          [stack]
        7ffd4c9b2000-7ffd4c9b6000 r--p 00000000 00:00 0                          [vvar]
        7ffd4c9b6000-7ffd4c9b8000 r-xp 00000000 00:00 0                          [vdso]
        '''
        """),
    sub("""
        ## `/proc/PID/maps`: the kernel's list of VMAs

        ```
        7f3a1e228000-7f3a1e3bd000 r-xp 00028000 fe:00 132700   /usr/lib/.../libc.so.6
        |            |            |    |        |     |        `- name
        |            |            |    |        |     `- inode
        |            |            |    |        `- device (major:minor)
        |            |            |    `- offset into the file, in bytes
        |            |            `- perms: r w x, then p (private) or s (shared)
        |            `- vm_end (exclusive)
        `- vm_start
        ```
        The offset is `vm_pgoff` × 4096 (0 for anonymous memory); the name is a path,
        `[heap]`, `[stack]`, `[vdso]`..., or empty for plain anonymous memory.
        """),
    sub("""
        ## This notebook's own address space

        The kernel running this notebook is a Python process. Here is what Linux says about
        it right now:
        """),
    code("""
        if sys.platform == "linux":
            maps = open("/proc/self/maps").read()
        else:
            maps = SAMPLE_MAPS            # not Linux: a saved example instead
        print(summarize_maps(maps))
        print(compact_maps(maps, limit=6))
        """, "fragment"),
    notes("""
        The count is large because numpy, matplotlib and friends are loaded: every shared
        library is mapped four or five times (read-only header, code, read-only data,
        relocated data, bss).
        """),
    slide("""
        ## Into the model

        `World.from_maps(text)` builds a model address space with one VMA per line. The
        model prints it back in the same format:
        """),
    code("""
        w = World.from_maps(maps)
        back = w.proc_maps()
        same = [a == b for a, b in zip(maps.splitlines(), back.splitlines())]
        print(f"{w.mm.map_count} VMAs loaded; {sum(same)} lines printed back identically")
        print("lines the model does not have:",
              sorted(set(maps.splitlines()) - set(back.splitlines())) or "none")
        """, "-"),
    frag("""
        Only `[vsyscall]` is missing (on x86-64): it sits above the top of the user address
        space and is not a VMA of the process at all; `/proc` prints it specially.
        """),
    slide("""
        ## The whole address space, drawn

        Each box is a VMA: **sky blue** anonymous, **striped sky blue** `[stack]`/`[heap]`,
        **grey dotted** the kernel's own `[vdso]`/`[vvar]`, **orange hatched** file-backed.
        Box widths follow the **log** of each VMA's size (4 KiB and 40 MiB side by side), and
        every large hole is squeezed into a `//` break with its size under it; an address
        under each row and after each break says where you are.
        """),
    code("""
        show_layout(w, title="this notebook's process", figsize=(9.6, 5.4), rows=5)
        """, "-", tags=("hide-input",)),
    notes("""
        Point out the two clusters: the executable and heap low down (0x55...), everything
        else (libraries, thread stacks, the main stack, vdso) near the top (0x7f...). mmap
        without an address hint allocates top-down from below the stack.
        """),
    sub("""
        ## Zoom in: the interpreter and its heap

        Keep only the lines of the Python binary and the heap. One executable file gives
        several VMAs, because its parts need different permissions and VMAs with different
        permissions can never be one.
        """),
    code("""
        exe = maps.splitlines()[0].split(None, 5)[-1]
        low = maps_excerpt(maps, lambda name: name in (exe, "[heap]"))
        print(compact_maps(low))
        show_layout(World.from_maps(low), title="executable and heap", figsize=(9.6, 2.1))
        """, "fragment", tags=("hide-input",)),
    sub("""
        ## Zoom in: the top of the address space

        The main thread's stack, and two areas the kernel provides: `[vvar]` (data the kernel
        shares read-only with the process) and `[vdso]` (code that lets some system calls,
        such as `clock_gettime`, run without entering the kernel).
        """),
    code("""
        top = maps_excerpt(maps, lambda name: name in ("[stack]", "[vvar]", "[vdso]",
                                                       "[vvar_vclock]"))
        print(compact_maps(top))
        show_layout(World.from_maps(top), title="stack, vvar, vdso", figsize=(9.6, 2.1))
        """, "fragment", tags=("hide-input",)),
    slide("""
        ## Inside a VMA

        The fields the model keeps are the kernel's (`struct vm_area_struct`):

        | field | meaning |
        |---|---|
        | `vm_start`, `vm_end` | the half-open, page-aligned range |
        | `vm_pgoff` | file page mapped at `vm_start`; for private anonymous memory, `vm_start >> 12` |
        | `vm_file` | the backing `struct file`, or none |
        | `vm_flags` | `VM_READ`, `VM_WRITE`, `VM_SHARED`, `VM_MAYWRITE`, `VM_ACCOUNT`, ... |
        | `anon_vma` | the anonymous rmap, created at the first write fault |
        | `vm_ops` | the driver's callbacks (`close`, `mapped`, ...) |
        """),
    code("""
        v = w.vmas()[1]
        print(hex(v.vm_start), hex(v.vm_end), "pgoff", hex(v.vm_pgoff),
              v.vm_file.f_inode.name if v.vm_file else "anonymous")
        print(" | ".join(flag_names(v.vm_flags)))
        """, "fragment"),
    sub("""
        ## Counting VMAs

        `mm->map_count` is the number of VMAs. It is limited by `vm.max_map_count`
        (65530 by default): a new `mmap()` is refused with `-ENOMEM` once the count is
        above the limit, and so is any split that would push it over. The catalog has a
        scenario with the limit set to 4:
        """),
    code("""
        t = record("map-count-limit")
        print(strip(t.initial))
        print("the sixth mmap() returns", t.result.ret, f"(-{t.result.errno})")
        """, "fragment"),
    notes("""
        Real programs hit this: allocators that mprotect guard pages, or JITs, can create
        tens of thousands of VMAs. Merging (next lesson) is what keeps the count down.
        """),
    *exercises(1, 'record("anon-new")', 101,
               "A private anonymous `mmap()` of 4 pages, no address hint, in an empty process.",
               scenarios=['anon-new', 'map-count-limit', 'anon-merge-both']),
]
