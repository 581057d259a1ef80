"""VM_* flag bits of a VMA (include/linux/mm.h, x86-64 values) and the sets built from them."""

class VmFlags:
    """vm_flags_t bits as plain ints (an enum would make every flag test slow).

    One word is enough for everything the model handles.
    """

    VM_NONE = 0
    VM_READ = 0x00000001
    VM_WRITE = 0x00000002
    VM_EXEC = 0x00000004
    VM_SHARED = 0x00000008
    VM_MAYREAD = 0x00000010
    VM_MAYWRITE = 0x00000020
    VM_MAYEXEC = 0x00000040
    VM_MAYSHARE = 0x00000080
    VM_GROWSDOWN = 0x00000100
    VM_PFNMAP = 0x00000400
    VM_MAYBE_GUARD = 0x00000800
    VM_LOCKED = 0x00002000
    VM_IO = 0x00004000
    VM_DONTCOPY = 0x00020000
    VM_DONTEXPAND = 0x00040000
    VM_LOCKONFAULT = 0x00080000
    VM_ACCOUNT = 0x00100000
    VM_NORESERVE = 0x00200000
    VM_HUGETLB = 0x00400000
    VM_WIPEONFORK = 0x02000000
    VM_DONTDUMP = 0x04000000
    VM_SOFTDIRTY = 0x08000000
    VM_MIXEDMAP = 0x10000000
    VM_HUGEPAGE = 0x20000000
    VM_NOHUGEPAGE = 0x40000000
    VM_MERGEABLE = 0x80000000
    VM_DROPPABLE = 1 << 40          # VM_HIGH_ARCH_8 on 64-bit


FLAG_BITS = tuple((name, value) for name, value in vars(VmFlags).items()
                  if name.startswith("VM_") and value)
_BY_NAME = dict(FLAG_BITS)

VM_ACCESS_FLAGS = VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_EXEC
VM_SPECIAL = VmFlags.VM_IO | VmFlags.VM_DONTEXPAND | VmFlags.VM_PFNMAP | VmFlags.VM_MIXEDMAP
VMA_REMAP_FLAGS = VmFlags.VM_IO | VmFlags.VM_PFNMAP | VmFlags.VM_DONTEXPAND | VmFlags.VM_DONTDUMP
VM_STICKY = VmFlags.VM_SOFTDIRTY | VmFlags.VM_MAYBE_GUARD
VM_IGNORE_MERGE = VM_STICKY
VM_LOCKED_MASK = VmFlags.VM_LOCKED | VmFlags.VM_LOCKONFAULT

# The two-letter mnemonics of /proc/PID/smaps "VmFlags:" (fs/proc/task_mmu.c).
SMAPS_MNEMONICS = {
    VmFlags.VM_READ: "rd", VmFlags.VM_WRITE: "wr", VmFlags.VM_EXEC: "ex",
    VmFlags.VM_SHARED: "sh", VmFlags.VM_MAYREAD: "mr", VmFlags.VM_MAYWRITE: "mw",
    VmFlags.VM_MAYEXEC: "me", VmFlags.VM_MAYSHARE: "ms", VmFlags.VM_GROWSDOWN: "gd",
    VmFlags.VM_PFNMAP: "pf", VmFlags.VM_LOCKED: "lo", VmFlags.VM_IO: "io",
    VmFlags.VM_DONTCOPY: "dc", VmFlags.VM_DONTEXPAND: "de", VmFlags.VM_LOCKONFAULT: "lf",
    VmFlags.VM_ACCOUNT: "ac", VmFlags.VM_NORESERVE: "nr", VmFlags.VM_HUGETLB: "ht",
    VmFlags.VM_WIPEONFORK: "wf", VmFlags.VM_DONTDUMP: "dd", VmFlags.VM_SOFTDIRTY: "sd",
    VmFlags.VM_MIXEDMAP: "mm", VmFlags.VM_HUGEPAGE: "hg", VmFlags.VM_NOHUGEPAGE: "nh",
    VmFlags.VM_MERGEABLE: "mg", VmFlags.VM_MAYBE_GUARD: "gu",
}


def flag_names(flags: int) -> list[str]:
    """The VM_* names set in flags, lowest bit first."""
    return [name for name, value in FLAG_BITS if flags & value]


def flags_from_names(names) -> int:
    """Inverse of flag_names; raises KeyError naming an unknown flag."""
    value = 0
    for name in names:
        value |= _BY_NAME[name]
    return value
