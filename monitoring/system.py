"""Host and process figures from /proc and the os module (Linux; None elsewhere)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

PROCESS_STARTED = time.time()


def _meminfo() -> dict[str, int] | None:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    values = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[name] = int(parts[0]) * 1024  # kB
    return values


def _process_rss() -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def system_metrics() -> dict[str, Any]:
    """CPU count and load, memory of the host, and this process's memory, CPU time and uptime."""
    try:
        load = [round(v, 2) for v in os.getloadavg()]
    except OSError:
        load = None
    memory = _meminfo()
    total, available = (memory or {}).get("MemTotal"), (memory or {}).get("MemAvailable")
    times = os.times()
    return {
        "cpu_count": os.cpu_count(),
        "load_average": load,
        "memory": {
            "total_bytes": total,
            "available_bytes": available,
            "used_percent": round(100 * (total - available) / total, 1) if total and available is not None else None,
        },
        "process": {
            "pid": os.getpid(),
            "rss_bytes": _process_rss(),
            "cpu_seconds": round(times.user + times.system, 2),
            "uptime_seconds": round(time.time() - PROCESS_STARTED, 1),
        },
    }
