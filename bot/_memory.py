"""Memory of a long-running server: freed pages back to the system, start-up objects out of the
garbage collector's way.

Python frees its objects, but glibc's malloc keeps freed heap pages, in one arena per thread
that ever allocated (the database driver, the NLU loader and `asyncio.to_thread` workers all
do). A long-running `leerloop run` then holds tens of MiB it no longer uses. Two arenas are
plenty for one event loop; `trim` hands free pages back. Both do nothing off glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging

logger = logging.getLogger(__name__)

_M_ARENA_MAX = -8  # from glibc's malloc.h


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    if not hasattr(libc, "malloc_trim") or not hasattr(libc, "mallopt"):
        return None
    return libc


_LIBC = _libc()


def limit_arenas(count: int = 2) -> bool:
    """At most `count` malloc arenas; call before threads start. True when it applied."""
    return bool(_LIBC is not None and _LIBC.mallopt(_M_ARENA_MAX, count))


def trim() -> bool:
    """Return free heap pages to the system. True when some were released."""
    return bool(_LIBC is not None and _LIBC.malloc_trim(0))


def freeze_long_lived() -> int:
    """Once start-up is done (NLU model and search index loaded): collect, then move every object
    alive now into the garbage collector's permanent generation.

    Those objects (spaCy's vocabulary, the model, the knowledge tables: about 240,000) live as
    long as the process. Without this, every full collection walks them all: 160–180 ms with the
    event loop standing still, long enough to bunch broadcasts into a 429 and to show in the
    reply tail. Objects made later are collected as usual. Returns how many were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
