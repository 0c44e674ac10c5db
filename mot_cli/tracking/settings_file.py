"""Tracker settings from a YAML file (`track --config FILE.yaml`), as ultralytics and boxmot
users keep theirs: one `name: value` line per setting, the names of `TrackerConfig`.

The file is read once into plain values and checked here, so a typo or a value of the wrong
kind is a one-line error naming the file (and the line, for YAML syntax) before any work.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mot_cli.errors import MotCliError
from mot_cli.tracking.config import TrackerConfig

__all__ = ["SettingsFile", "read_settings_file"]


@dataclass(frozen=True)
class SettingsFile:
    """A settings file as read: its path, the sha256 of its bytes, and its settings."""

    path: Path
    sha256: str
    values: dict[str, Any]

    def describe(self) -> dict[str, str]:
        """What a run's manifest records of the file: where it was and which bytes it held."""
        return {"path": str(self.path.resolve()), "sha256": self.sha256}


def read_settings_file(path: Path, option: str = "--config") -> SettingsFile:
    """Read and check a YAML mapping of tracker settings; any problem is one MotCliError."""
    import yaml

    where = f"{option} {path}"
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise MotCliError(f"{where}: no such file") from None
    except IsADirectoryError:
        raise MotCliError(f"{where}: is a folder, not a YAML file") from None
    except OSError as exc:
        raise MotCliError(f"{where}: cannot read ({exc.strerror or exc})") from None
    try:
        loaded = yaml.safe_load(data.decode("utf-8")) if data.strip() else {}
    except UnicodeDecodeError:
        raise MotCliError(f"{where}: not a text file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise MotCliError(f"{where}: {at}not valid YAML ({problem})") from None
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, dict):
        raise MotCliError(
            f"{where}: must be a mapping of tracker settings (name: value), "
            f"got a {type(loaded).__name__}"
        )
    values = {str(name): value for name, value in loaded.items()}
    _check(values, where)
    return SettingsFile(Path(path), hashlib.sha256(data).hexdigest(), values)


def _check(values: dict[str, Any], where: str) -> None:
    """Unknown names and values of the wrong kind are refused with the file's name."""
    known = list(TrackerConfig.__dataclass_fields__)
    for name, value in values.items():
        if name not in known:
            close = difflib.get_close_matches(name, known, n=3, cutoff=0.75)
            hint = f"; did you mean {' or '.join(close)}?" if close else (
                "; `mot-cli track --list-settings` lists them"
            )
            raise MotCliError(f"{where}: unknown tracker setting {name!r}{hint}")
        if isinstance(value, dict | list) or value is None:
            raise MotCliError(f"{where}: {name} must be a single value, got {value!r}")
    try:
        TrackerConfig.from_dict(values)
    except ValueError as exc:
        raise MotCliError(f"{where}: {exc}") from None
