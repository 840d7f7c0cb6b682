"""Running a command as a user runs it, and measuring it: wall time, the CPU time of it and its
workers, and memory (the process tree's summed resident size, sampled every 0.2 s).

CPU time comes from the kernel's account of the waited-for children, so it includes worker
processes the command started and waited for.
"""

from __future__ import annotations

import resource
import subprocess
import time
from dataclasses import dataclass

import psutil


@dataclass
class Measured:
    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    """The largest sum over the command and its workers."""
    largest_process_mib: float
    """The largest single process seen."""
    stdout: str


def run_measured(command: list[str], env: dict[str, str], what: str) -> Measured:
    """Run ``command``; exit naming ``what`` and the end of its stderr when it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    root = psutil.Process(process.pid)
    peak, largest = 0, 0
    while process.poll() is None:
        try:
            sizes = [p.memory_info().rss for p in [root, *root.children(recursive=True)]]
            peak, largest = max(peak, sum(sizes)), max(largest, max(sizes))
        except psutil.Error:
            pass
        time.sleep(0.2)
    stdout, stderr = process.communicate()
    wall = time.perf_counter() - began
    if process.returncode != 0:
        raise SystemExit(f"{what} failed: {stderr.strip()[-800:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(stdout.strip())
    return Measured(wall, cpu, peak / 2**20, largest / 2**20, stdout.strip())
