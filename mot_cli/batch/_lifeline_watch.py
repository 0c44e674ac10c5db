"""The watchdog `lifeline` starts: `python -I -S _lifeline_watch.py PID` (see lifeline.py).

Run as a script with the standard library only, so it starts in milliseconds and imports
nothing of the process it watches.
"""

from __future__ import annotations

import os
import select
import signal
import sys

POLL_SECONDS = 0.5


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, start time) of every process /proc shows."""
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                text = handle.read().decode(errors="replace")
        except OSError:
            continue
        fields = text[text.rfind(")") + 2 :].split()  # after the name, which may hold spaces
        found[int(name)] = (int(fields[1]), fields[19])  # ppid, starttime
    return found


def _descendants(roots: set[int], processes: dict[int, tuple[int, str]]) -> dict[int, str]:
    """Every process below `roots` (pid -> start time)."""
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in processes.items():
        children.setdefault(parent, []).append(pid)
    found: dict[int, str] = {}
    todo = list(roots)
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found[child] = processes[child][1]
                todo.append(child)
    return found


def _kill(noted: dict[int, str]) -> None:
    """Kill the noted processes still running as themselves, then what they started."""
    processes = _processes()
    alive = {pid for pid, started in noted.items() if processes.get(pid, (0, ""))[1] == started}
    for pid in (alive | set(_descendants(alive, processes))) - {os.getpid()}:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def main(watched: int) -> None:
    noted: dict[int, str] = {}
    message = b""
    while True:
        ready, _, _ = select.select([0], [], [], POLL_SECONDS)
        if ready:
            chunk = os.read(0, 64)
            if not chunk:
                break
            message += chunk
            continue
        noted.update(_descendants({watched}, _processes()))
        noted.pop(os.getpid(), None)
    if not message.startswith(b"done"):
        _kill(noted)


if __name__ == "__main__":
    main(int(sys.argv[1]))
