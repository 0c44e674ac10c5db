"""MOTChallenge `seqinfo.ini`: the length, size and frame rate of a sequence."""

from __future__ import annotations

import configparser
import math
from dataclasses import dataclass
from pathlib import Path

from mot_cli.errors import MotCliError


@dataclass(frozen=True)
class SeqInfo:
    name: str
    seq_length: int
    frame_rate: float
    width: int
    height: int
    im_dir: str = "img1"
    im_ext: str = ".jpg"


def read_seqinfo(path: Path) -> SeqInfo:
    """Parse a seqinfo.ini; a missing key or a bad number is a MotCliError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise MotCliError(f"{path}: seqinfo.ini not found")
    parser = configparser.ConfigParser()
    try:
        parser.read(path, encoding="utf-8")
        section = parser["Sequence"]
        info = SeqInfo(
            name=section.get("name", path.parent.name),
            seq_length=int(section["seqLength"]),
            frame_rate=float(section.get("frameRate", "25")),
            width=int(section.get("imWidth", "0")),
            height=int(section.get("imHeight", "0")),
            im_dir=section.get("imDir", "img1"),
            im_ext=section.get("imExt", ".jpg"),
        )
    except (KeyError, ValueError, configparser.Error) as exc:
        raise MotCliError(f"{path}: malformed seqinfo.ini ({exc!s})") from None
    if info.seq_length < 1:
        raise MotCliError(f"{path}: seqLength={info.seq_length}; a sequence has 1 frame or more")
    if not 0 < info.frame_rate < math.inf:
        raise MotCliError(f"{path}: frameRate={info.frame_rate:g}; it must be a positive number")
    return info
