"""fork(): copying an address space (mm/mmap.c dup_mmap, kernel/fork.c), and exit_mmap
(mm/mmap.c), spec §3.1-§3.4.

dup_mmap write-locks the parent's mmap_lock and then each parent VMA in turn, and builds
the child's VMAs: VM_DONTCOPY ranges become holes, VM_WIPEONFORK VMAs start unfaulted and
empty, every other faulted VMA is linked into the anon_vma tree (anon_vma_fork) and
shares the parent's pages copy-on-write. The child never inherits VM_LOCKED. A file VMA
of the child joins i_mmap right after its parent's.
"""

from __future__ import annotations

from .accounting import security_vm_enough_memory_mm, vm_stat_account, vm_unacct_memory
from .errno import Errno
from .file_ops import get_file, is_shared_maywrite, vma_interval_tree_insert_after
from .instrument import call_hook, kernel_function
from .locking import (i_mmap_lock_write, i_mmap_unlock_write, mmap_write_lock,
                      mmap_write_unlock, vma_start_write)
from .memory import copy_page_range, unmap_vmas
from .mm_types import mm_struct
from .rmap import anon_vma_fork
from .vm_flags import VM_LOCKED_MASK, VmFlags
from .vma_split import vm_area_dup


@kernel_function("mm/mmap.c", "simplified")
def dup_mmap(mm, oldmm) -> int:
    """Copy every VMA of oldmm into the new mm (fork). 0 or -ENOMEM (the commit charge of
    an accounted VMA refused); on failure the child's partial address space is torn down
    by the caller."""
    world = mm.world
    mmap_write_lock(oldmm)
    mmap_write_lock(mm)        # mmap_write_lock_nested: the child is not visible yet
    retval = 0
    try:
        mm.total_vm, mm.data_vm = oldmm.total_vm, oldmm.data_vm
        mm.exec_vm, mm.stack_vm = oldmm.exec_vm, oldmm.stack_vm
        for mpnt in oldmm.mm_mt:
            vma_start_write(mpnt)
            if mpnt.vm_flags & VmFlags.VM_DONTCOPY:
                vm_stat_account(mm, mpnt.vm_flags, -mpnt.pages())
                world.emit("vma", "fork_dontcopy", vma=mpnt.id, start=mpnt.vm_start,
                           end=mpnt.vm_end)
                continue
            charge = 0
            if mpnt.vm_flags & VmFlags.VM_ACCOUNT:
                if security_vm_enough_memory_mm(oldmm, mpnt.pages()):
                    retval = -Errno.ENOMEM
                    break
                charge = mpnt.pages()
            tmp = vm_area_dup(mpnt, mm)
            if tmp is None:
                vm_unacct_memory(world, charge)
                retval = -Errno.ENOMEM
                break
            if tmp.vm_flags & VmFlags.VM_WIPEONFORK:
                tmp.anon_vma = None       # a clean slate: faulted again on first use
            else:
                anon_vma_fork(tmp, mpnt)
            tmp.vm_flags &= ~VM_LOCKED_MASK
            tmp.vm_refcnt = 1
            mm.mm_mt.store(tmp)
            mm.map_count += 1
            if tmp.vm_ops is not None and tmp.vm_ops.open is not None:
                call_hook(world, "vm_ops->open", tmp.vm_ops.open, tmp)
            f = tmp.vm_file
            if f is not None:
                mapping = f.f_mapping
                get_file(f)
                i_mmap_lock_write(mapping)
                if is_shared_maywrite(tmp.vm_flags):
                    mapping.i_mmap_writable += 1
                vma_interval_tree_insert_after(tmp, mpnt, mapping)
                i_mmap_unlock_write(mapping)
            if not tmp.vm_flags & VmFlags.VM_WIPEONFORK:
                copy_page_range(tmp, mpnt)
            world.emit("vma", "fork_copied", vma=tmp.id, parent=mpnt.id, start=tmp.vm_start,
                       end=tmp.vm_end, pid=mm.owner_pid,
                       anon_vma=tmp.anon_vma.id if tmp.anon_vma is not None else None)
    finally:
        mmap_write_unlock(mm)
        mmap_write_unlock(oldmm)
    return retval


def dup_fd(files):
    """The child's own fd table, naming the same open files (each gains a reference).

    Mirrors dup_fd() in fs/file.c."""
    from .task import files_struct
    new = files_struct()
    for n, f in files.fd.items():
        get_file(f)
        new.fd[n] = f
    return new


@kernel_function("kernel/fork.c", "simplified")
def copy_process(parent):
    """fork(): a new process with its own fd table (the same open files) and a copy of the
    parent's address space (copy_mm -> dup_mm -> dup_mmap). The child's mm starts with the
    parent's layout and counters, locked_vm 0 and no mlockall default (mm_init). Returns
    (0, child task) or (-ENOMEM, None)."""
    world = parent.world
    oldmm = parent.mm
    pid = len(world.tasks) + 1
    mm = mm_struct(world, pid)
    mm.task_size, mm.mmap_base = oldmm.task_size, oldmm.mmap_base
    mm.start_brk, mm.brk = oldmm.start_brk, oldmm.brk
    mm.def_flags = oldmm.def_flags & VmFlags.VM_NOHUGEPAGE
    child = world.new_task(mm, dup_fd(parent.files), parent.comm)
    world.emit("note", "fork_start", pid=pid, parent=oldmm.owner_pid)
    err = dup_mmap(mm, oldmm)
    if err:
        exit_mmap(mm)
        close_files(child.files)
        child.exited = True
        return err, None
    return 0, child


def close_files(files):
    """Drop every fd of a table (exit, or a failed fork). (fs/file.c)"""
    from .file_ops import fput
    table = list(files.fd.values())
    files.fd.clear()
    for f in table:
        fput(f)


@kernel_function("mm/mmap.c", "simplified")
def exit_mmap(mm):
    """Tear down a whole address space (exit, or a failed fork): zap every page, unlink
    every VMA from the rmaps, close and free them, give back the commit charge."""
    from .vma_munmap import free_pgtables, remove_vma
    world = mm.world
    mmap_write_lock(mm)
    try:
        vmas = list(mm.mm_mt)
        unmap_vmas(vmas)
        free_pgtables(vmas)
        nr_accounted = 0
        for vma in vmas:
            if vma.vm_flags & VmFlags.VM_ACCOUNT:
                nr_accounted += vma.pages()
            mm.mm_mt.erase(vma)
            vma.vm_refcnt = 0
            remove_vma(vma)
        vm_unacct_memory(world, nr_accounted)
        mm.map_count = 0
        mm.total_vm = mm.locked_vm = mm.data_vm = mm.exec_vm = mm.stack_vm = 0
        mm.locked_vm_leaked = 0
        mm.exited = True
    finally:
        mmap_write_unlock(mm)
    world.emit("note", "mm_exited", pid=mm.owner_pid)

