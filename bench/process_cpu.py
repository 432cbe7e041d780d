"""CPU seconds used by process trees, from Linux's /proc: the stack's processes and every
flow-run process `serve` starts under them, counted also after they have exited (a reaped
child's time moves into its parent's cutime/cstime)."""

import os
import threading
from collections import defaultdict
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name is in parentheses and may hold spaces: split after it.
    return text[text.rindex(")") + 2 :].split()


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            tree[int(fields[1])].append(int(entry.name))
    return tree


def descendants(roots: list[int]) -> list[int]:
    """The roots and every live process under them."""
    tree, found, todo = _children(), [], list(roots)
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += tree.get(pid, [])
    return found


def cpu_seconds(roots: list[int]) -> float:
    """User + system time of the trees under `roots`: live processes' own time, plus what
    their exited children used."""
    total = 0
    for pid in descendants(roots):
        fields = _stat(pid)
        if fields is not None:  # utime stime cutime cstime: fields 14-17 of stat
            total += sum(int(value) for value in fields[11:15])
    return total / TICK


class ProcessPeak:
    """The most processes alive at once under `parents` (flow runs), sampled 4 times a second
    while the block runs."""

    def __init__(self, parents: list[int]) -> None:
        self.parents = parents
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.25):
            self.peak = max(self.peak, len(descendants(self.parents)) - len(self.parents))

    def __enter__(self) -> "ProcessPeak":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
