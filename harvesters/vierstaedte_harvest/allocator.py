"""Process-wide memory setting for the harvester command (not applied on import of the library).

The engine allocates and frees many arrays of a few hundred kilobytes per
chunk. glibc's malloc raises its mmap threshold each time such an array is
freed, after which the next ones come from the heap and freed memory stays in
the process. Fixing the threshold at its default keeps large arrays in their
own mappings, returned to the system when freed: the resident memory of a
harvest follows the data it holds. The price is a fresh mapping, and its page
faults, per large array: some of the engine's throughput. The figures, and the
thresholds tried in between, are in ``docs/performance.md`` (``bench/normalise.py``
measures them).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number
MMAP_THRESHOLD = 128 * 1024  # glibc's own default, made fixed


def return_freed_memory() -> bool:
    """Keep large allocations in their own mappings; False where the C library is not glibc."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        mallopt = getattr(libc, "mallopt", None)
    except OSError:
        mallopt = None
    if mallopt is None or not hasattr(libc, "gnu_get_libc_version"):
        return False
    if not mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD):
        log.debug("mallopt(M_MMAP_THRESHOLD) refused")
        return False
    return True
