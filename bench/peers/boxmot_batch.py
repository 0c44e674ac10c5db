"""Run many boxmot_runner jobs in one process (run by the boxmot env's python).

Each `boxmot_runner.py` call pays for python, torch and boxmot start-up (seconds, and tens of
seconds on a loaded machine); the bench runs hundreds of (tracker, sequence) pairs, so it
hands them over as one JSON file of jobs instead. Each job is ``{"argv": [...], "summary":
path}``: the runner's own arguments, and where to write the JSON summary it prints. The
tracks are the same as from separate runs: every job builds its own tracker.

    <env>/bin/python bench/peers/boxmot_batch.py JOBS.json
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import boxmot_runner


def main(path: str) -> int:
    jobs = json.loads(Path(path).read_text())
    for job in jobs:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = boxmot_runner.main(job["argv"])
        lines = [ln for ln in out.getvalue().splitlines() if ln.startswith("{")]
        if code not in (0, None) or not lines:
            print(f"boxmot job failed: {' '.join(job['argv'])}\n{out.getvalue()[-2000:]}",
                  file=sys.stderr)
            return 1
        Path(job["summary"]).write_text(lines[-1] + "\n")
        print(lines[-1], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
