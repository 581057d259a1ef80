"""Spec §8's file-reference invariant, checked when a system call returns.

Every reference on a `struct file` must be owned by something: an fd table entry, a VMA
that maps the file (VMAs are found through the file's i_mmap, which validate_mm keeps
equal to the attached VMAs), or a kernel object registered in `world.file_holders` (a
stacked file holds its lower file). get_file(), fput() and new files note the file in
`world.files_touched`; only those are checked, so a call costs what it touched. A count
above its owners is a leak (the swapped-file leak of spec §6h, and the one the later fix
still misses); a count below them is a reference dropped twice. Either is reported as a
warning event and kept in `world.file_ref_reports`, not silently accepted.
"""


def file_owners(world, f) -> int:
    """How many references `f` should have: fds, mapping VMAs and registered holders."""
    seen = set()
    fds = 0
    for task in world.tasks:
        table = task.files
        if id(table) in seen:
            continue
        seen.add(id(table))
        fds += sum(1 for g in table.fd.values() if g is f)
    vmas = sum(1 for vma in f.f_mapping.i_mmap.values() if vma.vm_file is f)
    return fds + vmas + world.file_holders.get(f.id, 0)


def check_file_refs(world, syscall: str) -> None:
    """Compare each touched file's f_count with its owners; report every mismatch."""
    touched = world.files_touched
    if not touched:
        return
    world.files_touched = set()
    for f in sorted(touched, key=lambda g: g.id):
        owners = file_owners(world, f)
        if f.f_count == owners:
            continue
        what = "file_ref_leak" if f.f_count > owners else "file_ref_underflow"
        world.file_ref_reports.append({"what": what, "file": f.label, "count": f.f_count,
                                       "owners": owners, "syscall": syscall})
        world.emit("warn", what, fn=syscall, file=f.label, count=f.f_count, owners=owners)
