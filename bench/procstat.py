"""CPU time and memory of process groups, read from /proc (Linux only).

CPU is utime + stime of every process of a group (read before and after a run); memory is VmRSS
(sampled in a background thread while load runs) and VmHWM (the kernel's own peak since the
process started)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its closing one.
    return raw[raw.rindex(")") + 2 :].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used so far (0 once it is gone)."""
    f = _stat_fields(pid)
    if f is None:
        return 0.0
    # After the name: state(3) ppid(4) ... utime(14) stime(15), i.e. indexes 11 and 12 here.
    return (int(f[11]) + int(f[12])) / CLK_TCK


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, summed over all cores."""
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (f + [0] * 8)[:8]
    busy = user + nice + system + irq + softirq + steal
    return busy / CLK_TCK, (busy + idle + iowait) / CLK_TCK


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kb(pid: int) -> int:
    return _status_kb(pid, "VmRSS")


def hwm_kb(pid: int) -> int:
    return _status_kb(pid, "VmHWM")


def descendants(root: int) -> list[int]:
    """``root`` and every live process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        f = _stat_fields(int(entry))
        if f is None:
            continue
        children.setdefault(int(f[1]), []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        if _stat_fields(pid) is None:
            continue
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


# A group is a named set of processes, resolved afresh at each read (LiteLLM's workers may be
# respawned): name → callable returning the pids.
Groups = Mapping[str, Callable[[], Sequence[int]]]


def cpu_of(groups: Groups) -> dict[str, float]:
    return {name: sum(cpu_seconds(p) for p in pids()) for name, pids in groups.items()}


def hwm_of(groups: Groups) -> dict[str, float]:
    """Peak resident memory per group in MB (sum of its processes' VmHWM)."""
    return {name: sum(hwm_kb(p) for p in pids()) / 1024 for name, pids in groups.items()}


def rss_of(groups: Groups) -> dict[str, float]:
    return {name: sum(rss_kb(p) for p in pids()) / 1024 for name, pids in groups.items()}


class RssSampler:
    """Samples the RSS of some groups every ``interval`` seconds in a thread; keeps each group's
    maximum and the maximum of their sum at one instant."""

    def __init__(self, groups: Groups, interval: float = 0.5) -> None:
        self._groups = groups
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self.max_mb: dict[str, float] = {}
        self.max_total_mb = 0.0
        self.samples = 0
        # Pids are resolved once per sampler: a group's processes do not change during one run.
        self._pids = {name: list(pids()) for name, pids in groups.items()}

    def _run(self) -> None:
        while not self._stop.is_set():
            now = {name: sum(rss_kb(p) for p in pids) / 1024 for name, pids in self._pids.items()}
            for name, mb in now.items():
                self.max_mb[name] = max(self.max_mb.get(name, 0.0), mb)
            self.max_total_mb = max(self.max_total_mb, sum(now.values()))
            self.samples += 1
            self._stop.wait(self._interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def machine() -> dict[str, object]:
    """The machine a run was measured on."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    load = os.getloadavg()
    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "kernel": os.uname().release,
        "load_average_at_start": [round(x, 2) for x in load],
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
