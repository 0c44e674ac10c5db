"""The README's examples run exactly as written: every `mot-cli` line of it whose inputs are
only ../shared (or what an earlier such line wrote) runs in a fresh folder beside ../shared and
exits 0. Lines with placeholders (SOURCE, video.mp4, your own tracker folders) are left out.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, SHARED, need

pytestmark = pytest.mark.integration

OUTPUT_OPTIONS = {"-o", "--output", "--json", "--csv", "--plot", "--render", "--cache-dir"}
RELATIVE_TO_INPUTS = {"--det-txt"}  # looked for inside each sequence folder too


def readme_commands(text: str) -> list[str]:
    """Every `mot-cli …` of the README: lines of its code blocks, and inline code spans."""
    commands = []
    blocks = re.findall(r"```(\w*)\n(.*?)```", text, flags=re.DOTALL)
    for block in (body for kind, body in blocks if kind in ("", "bash", "sh", "console")):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" # ")[0].strip()
            if re.match(r"^([A-Z_]+=\S+ )*mot-cli ", line):
                commands.append(line)
    prose = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    spans = [" ".join(span.split()) for span in re.findall(r"`(mot-cli [^`|]+)`", prose)]
    commands += [span for span in spans if len(span.split()) > 2]  # not a command's bare name
    return list(dict.fromkeys(commands))


def is_path(token: str) -> bool:
    return not token.startswith("-") and "=" not in token and (
        "/" in token or re.search(r"\.[a-z0-9]{2,4}$", token) is not None
    )


def runnable(tokens: list[str], cwd: Path) -> bool:
    """Whether every input the command names exists (../shared, or an earlier line's output)
    and nothing in it is a placeholder."""
    if any(t in ("…", "...") or t.endswith("…") or re.fullmatch(r"[A-Z_]{3,}[.A-Za-z0-9]*", t)
           for t in tokens):  # fmt: skip
        return False
    inputs = [cwd / t for t in tokens if is_path(t)]
    for index, token in enumerate(tokens):
        before = tokens[index - 1] if index else ""
        if before in OUTPUT_OPTIONS or not is_path(token):
            continue
        if before in RELATIVE_TO_INPUTS:
            places = [cwd, *inputs, *(c for p in inputs if p.is_dir() for c in p.iterdir())]
            if not any((place / token).exists() for place in places):
                return False
        elif "*" not in token and not (cwd / token).exists():
            return False
    return True


def run_line(line: str, cwd: Path) -> subprocess.CompletedProcess:
    tokens = shlex.split(line)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    while "=" in tokens[0]:
        name, _, value = tokens.pop(0).partition("=")
        env[name] = value
    assert tokens[0] == "mot-cli"
    return subprocess.run([sys.executable, "-m", "mot_cli", *tokens[1:]], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)  # fmt: skip


def test_readme_commands_are_found() -> None:
    text = (REPO / "README.md").read_text()
    commands = readme_commands(text)
    assert any(c.startswith("mot-cli batch ../shared/datasets/MOT15-train/") for c in commands)
    assert "mot-cli track" not in commands  # a command named in prose is no example
    assert any(c.startswith("mot-cli summary runs/PETS09-S2L1 --gt ") for c in commands)


@pytest.mark.slow
def test_readme_examples_that_need_only_shared_run_as_written(tmp_path: Path) -> None:
    need(SHARED / "datasets" / "MOT15-train")
    work = tmp_path / "work"
    (work / "checkout").mkdir(parents=True)
    (work / "shared").symlink_to(SHARED)  # ../shared, as beside the repository
    cwd = work / "checkout"
    lines = readme_commands((REPO / "README.md").read_text())
    pending = [(line, shlex.split(line)) for line in lines]
    ran = []
    progress = True
    while progress:  # a line may read what an earlier one wrote (batch, then summary)
        progress = False
        for line, tokens in list(pending):
            if not runnable([t for t in tokens if "=" not in t or t.startswith("-")], cwd):
                continue
            done = run_line(line, cwd)
            assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
            ran.append(line)
            pending.remove((line, tokens))
            progress = True
    assert any(line.startswith("mot-cli batch ../shared/") for line in ran), ran
    print("ran:", *ran, "left out:", *(line for line, _ in pending), sep="\n  ")
