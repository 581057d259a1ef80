"""Loading a real maps text: the loaded VMAs are linked into their files' rmaps like mapped ones."""

import mmviz

MAPS = """\
10000000-10002000 rw-s 00000000 00:01 4242                               /memfd:buf (deleted)
10002000-10003000 r--p 00000000 00:00 0 
"""


def test_loaded_shared_mapping_unmaps_cleanly():
    w = mmviz.World.from_maps(MAPS)
    assert w.proc_maps() == MAPS
    (shared, _) = w.vmas()
    mapping = shared.vm_file.f_mapping
    assert shared.id in mapping.i_mmap and mapping.i_mmap_writable == 1
    w.validate()
    assert w.munmap(0x10000000, 0x2000) == 0
    assert mapping.i_mmap == {} and mapping.i_mmap_writable == 0
    w.validate()
