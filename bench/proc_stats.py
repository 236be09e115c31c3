"""What /proc says of a process: its memory (``/proc/PID/status``) and its CPU time (``/proc/PID/stat``).

Shared by the benchmarks, which measure the processes they start. A process that is gone (or no process,
``None``) reads as None.
"""

import contextlib
import os
from pathlib import Path


def status_kib(pid: int | None, field: str) -> int | None:
    """A ``kB`` field of /proc/PID/status (VmRSS, VmHWM), in KiB."""
    if pid is None:
        return None
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def cpu_seconds(pid: int | None) -> float | None:
    """User plus system CPU time of ``pid`` so far."""
    fields = _stat_fields(pid)
    return None if fields is None else (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int | None) -> float | None:
    """CPU time of ``pid`` and its children, live and reaped (PostgreSQL's backends)."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    ticks = sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    for stat in Path("/proc").glob("[0-9]*/stat"):
        child = _stat_fields(int(stat.parent.name))
        if child is not None and int(child[1]) == pid:
            ticks += int(child[11]) + int(child[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int | None) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (which may hold spaces): state is [0], ppid [1]."""
    if pid is None:
        return None
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
