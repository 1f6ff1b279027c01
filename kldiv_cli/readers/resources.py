"""What this machine can give a run: the memory it may still take, in words for
messages. Read by the readers (an input that cannot fit) and by ``matrix`` (a matrix
that cannot fit), so that both refuse on the same figure.
"""

from __future__ import annotations

import os
import resource


def available_memory() -> int | None:
    """Bytes this process can still allocate, or None when nothing says.

    The least of: the kernel's ``MemAvailable`` (free memory plus what caches can give
    back; ``sysconf`` free pages where there is no ``/proc``), the limit of the memory
    cgroup (a container's) less its usage, and the address-space limit (``ulimit -v``)
    less the address space in use.
    """
    found = [x for x in (_meminfo(), _cgroup_room(), _address_space_room()) if x is not None]
    return max(0, min(found)) if found else None


def _meminfo() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not on this system
        return None


def _read_int(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as f:
            text = f.read().strip()
        return int(text)
    except (OSError, ValueError):  # absent, or "max": no limit
        return None


def _cgroup_room() -> int | None:
    """The memory cgroup's limit less its usage (cgroup v2, else v1), if limited."""
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ):
        limit = _read_int(limit_file)
        # v1 spells "no limit" as a number near 2**63.
        if limit is not None and limit < 1 << 60:
            usage = _read_int(usage_file)
            return limit - (usage or 0)
    return None


def _address_space_room() -> int | None:
    """``ulimit -v`` less the address space in use (``/proc/self/statm``)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        used = 0
    return int(soft) - used


def size_text(nbytes: float) -> str:
    """``18.6 GiB``, ``512 MiB``, ``900 KiB``, ``12 bytes``: powers of 1024."""
    for unit, power in (("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if nbytes >= 1 << power:
            value = nbytes / (1 << power)
            return f"{value:.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"
    return f"{int(nbytes)} bytes"
