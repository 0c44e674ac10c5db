"""Create (once) the separate virtual environment holding the boxmot peer trackers.

boxmot is not a dependency of mot-cli: the association bench builds this
environment on first use and runs ``boxmot_runner.py`` with its python.

    python bench/peers/boxmot_env.py            # create if missing, print its python
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

BOXMOT_VERSION = "25.0.0"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ENV = REPO_ROOT / "bench" / ".venv-boxmot"
RUNNER = Path(__file__).resolve().with_name("boxmot_runner.py")
# Only boxmot is pinned; pip resolves torch, torchvision, opencv, ... itself.
REQUIREMENTS = (f"boxmot=={BOXMOT_VERSION}",)
MARKER_NAME = f".mot-cli-boxmot-{BOXMOT_VERSION}.ok"
_IMPORT_CHECK = "import boxmot, torch, cv2, pyarrow; print(boxmot.__version__, torch.__version__)"


def _env_python(path: Path) -> Path:
    return path / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _base_python() -> str:
    """An interpreter outside any venv, so the new venv never nests in mot-cli's."""
    base = getattr(sys, "_base_executable", None)
    if base and Path(base).exists():
        return base
    return shutil.which("python3") or sys.executable


def _clean_env() -> dict[str, str]:
    env = dict(os.environ)
    for var in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PIP_REQUIRE_VIRTUALENV"):
        env.pop(var, None)
    return env


def ensure_boxmot_env(path: Path = DEFAULT_ENV, *, quiet: bool = False) -> Path:
    """Return the python of a venv at ``path`` with boxmot installed, creating it if needed.

    Idempotent: a marker file written after a successful install (and an
    import check) short-circuits later calls.  pip's output goes to
    ``<path>/install.log``.
    """
    path = Path(path)
    python = _env_python(path)
    marker = path / MARKER_NAME
    if marker.is_file() and python.exists():
        return python

    def say(msg: str) -> None:
        if not quiet:
            print(f"[boxmot-env] {msg}", file=sys.stderr, flush=True)

    env = _clean_env()
    if not python.exists():
        say(f"creating venv {path}")
        subprocess.run([_base_python(), "-m", "venv", str(path)], check=True, env=env)
    log = path / "install.log"
    say(f"installing {' '.join(REQUIREMENTS)} (log: {log}); this downloads torch and takes minutes")
    with log.open("a") as fh:
        for cmd in (
            [str(python), "-m", "pip", "install", "--upgrade", "pip"],
            [str(python), "-m", "pip", "install", *REQUIREMENTS],
        ):
            fh.write(f"$ {' '.join(cmd)}\n")
            fh.flush()
            done = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env)
            if done.returncode != 0:
                raise RuntimeError(f"boxmot env install failed ({' '.join(cmd)}); see {log}")
    check = subprocess.run(
        [str(python), "-c", _IMPORT_CHECK],
        capture_output=True,
        text=True,
        env=env,
    )
    if check.returncode != 0 or not check.stdout.startswith(BOXMOT_VERSION):
        raise RuntimeError(f"boxmot env import check failed:\n{check.stdout}\n{check.stderr}")
    marker.write_text(check.stdout)
    say(f"ready: boxmot/torch {check.stdout.strip()}")
    return python


def run_peer(python: Path, tracker: str, out: Path, **options: Any) -> dict:
    """Run ``boxmot_runner.py`` for one tracker and sequence; return its JSON summary.

    ``options`` are ``runner_args``'s keywords (width, height, detections, ...), passed on as
    they are so the two never disagree.
    """
    args = runner_args(tracker, out, **options)
    cmd = [str(python), str(RUNNER), *args]
    done = subprocess.run(cmd, capture_output=True, text=True, env=_clean_env())
    if done.returncode != 0:
        raise RuntimeError(f"boxmot {tracker} failed:\n{done.stderr[-4000:]}")
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"boxmot {tracker} printed no JSON summary:\n{done.stdout[-2000:]}")
    return json.loads(lines[-1])


def runner_args(
    tracker: str,
    out: Path,
    *,
    width: int,
    height: int,
    detections: Path | None = None,
    det_txt: Path | None = None,
    embeddings: Path | None = None,
    frames: Path | None = None,
    num_frames: int | None = None,
    reid_weights: Path | None = None,
    score_norm: str = "auto",
) -> list[str]:
    """The runner's command-line arguments for one tracker and sequence."""
    cmd = ["--tracker", tracker, "--out", str(out)]
    cmd += ["--width", str(width), "--height", str(height), "--score-norm", score_norm]
    if detections is not None:
        cmd += ["--detections", str(detections)]
    if det_txt is not None:
        cmd += ["--det-txt", str(det_txt)]
    if embeddings is not None:
        cmd += ["--embeddings", str(embeddings)]
    if frames is not None:
        cmd += ["--frames-dir-or-video", str(frames)]
    if num_frames is not None:
        cmd += ["--num-frames", str(num_frames)]
    if reid_weights is not None:
        cmd += ["--reid-weights", str(reid_weights)]
    return cmd


def run_peer_batch(python: Path, jobs: list[dict], workers: int = 1) -> None:
    """Run many peer jobs in `workers` long-lived processes (bench/peers/boxmot_batch.py).

    Each job is ``runner_args``'s keyword arguments plus ``tracker`` and ``out``; its JSON
    summary is written beside ``out`` with a ``.json`` suffix.
    """
    import tempfile

    if not jobs:
        return
    batch = Path(__file__).resolve().with_name("boxmot_batch.py")
    shares = [jobs[i::workers] for i in range(max(1, workers))]
    procs = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, share in enumerate(s for s in shares if s):
            spec = [
                {"argv": runner_args(**job), "summary": str(Path(job["out"]).with_suffix(".json"))}
                for job in share
            ]
            for job in share:
                Path(job["out"]).parent.mkdir(parents=True, exist_ok=True)
            path = Path(tmp) / f"jobs{n}.json"
            path.write_text(json.dumps(spec))
            log = path.with_suffix(".log")
            with log.open("w") as err:
                procs.append((subprocess.Popen(
                    [str(python), str(batch), str(path)], env=_clean_env(),
                    stdout=subprocess.DEVNULL, stderr=err,
                ), log))  # fmt: skip
        failed = [log.read_text() for proc, log in procs if proc.wait() != 0]
    if failed:
        raise RuntimeError(f"boxmot batch failed:\n{failed[0][-4000:]}")


if __name__ == "__main__":
    print(ensure_boxmot_env())
