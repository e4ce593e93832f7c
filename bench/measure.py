"""Timing and process helpers shared by the figures: CPU and wall time, peak RSS, machine."""

from __future__ import annotations

import json
import math
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "Timing",
    "child_json",
    "child_python",
    "machine",
    "max_rss_mb",
    "percentile",
    "remove_db",
    "run_child",
    "timed",
    "worker_peaks",
]

ROOT = Path(__file__).resolve().parent.parent


@dataclass(slots=True)
class Timing:
    """Wall-clock and CPU (user + system) seconds of a measured block."""

    wall: float = 0.0
    cpu: float = 0.0


@contextmanager
def timed() -> Iterator[Timing]:
    """Time the block in this process: wall clock and this process's CPU time."""
    result = Timing()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield result
    finally:
        result.wall = time.perf_counter() - wall
        result.cpu = time.process_time() - cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_child(
    argv: Sequence[str], **kwargs: Any
) -> tuple[subprocess.CompletedProcess[str], Timing]:
    """Run a command to completion; its wall time and the CPU time it (and its children) used."""
    before = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.run(list(argv), capture_output=True, text=True, check=False, **kwargs)
    timing = Timing(time.perf_counter() - start, _children_cpu() - before)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return proc, timing


def child_python(*args: str) -> list[str]:
    """argv for ``python -m bench …`` in this interpreter, from the project root."""
    return [sys.executable, "-m", "bench", *args]


def child_json(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The JSON object a ``python -m bench _…`` helper printed last."""
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def max_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def worker_peaks(every: float = 0.1) -> Iterator[dict[int, float]]:
    """The peak memory (VmHWM, MB) of each child process seen while the block runs,
    sampled every ``every`` seconds (Linux; empty elsewhere)."""
    import threading

    peaks: dict[int, float] = {}
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(every):
            for children in Path("/proc/self/task").glob("*/children"):
                for pid in children.read_text().split():
                    try:
                        status = Path(f"/proc/{pid}/status").read_text()
                    except OSError:
                        continue  # gone
                    for line in status.splitlines():
                        if line.startswith("VmHWM:"):
                            mb = int(line.split()[1]) / 1024
                            peaks[int(pid)] = max(peaks.get(int(pid), 0.0), mb)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peaks
    finally:
        stop.set()
        thread.join()


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    rank = math.ceil(q / 100 * len(ordered)) - 1
    return ordered[max(0, min(len(ordered) - 1, rank))]


def remove_db(path: Path) -> None:
    """Delete an SQLite file and its WAL companions."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) / 2**20
    except OSError:
        pass
    import pydantic
    import pydantic_core

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "pydantic": pydantic.VERSION,
        "pydantic_core": pydantic_core.__version__,
        "load_average": os.getloadavg(),
    }
