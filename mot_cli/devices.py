"""Checking `--device` against the machine before any work, with a one-line error.

torch is imported only for a device other than `cpu`, so CPU runs start fast.
"""

from __future__ import annotations

import re

from mot_cli.errors import MotCliError

__all__ = ["check_device"]

_DEVICE = re.compile(r"cpu|mps|cuda(?::(?P<index>\d+))?|(?P<bare>\d+)")


def check_device(device: str) -> str:
    """Return `device` if this machine has it: cpu, cuda, cuda:N, N (a CUDA index) or mps."""
    text = device.strip().lower()
    match = _DEVICE.fullmatch(text)
    if match is None:
        raise MotCliError(
            f"--device {device!r}: unknown device; use cpu, cuda, cuda:N (or N) or mps"
        )
    if text == "cpu":
        return device
    import torch

    if text == "mps":
        if not torch.backends.mps.is_available():
            raise MotCliError("--device mps: Apple's MPS is not available here; use --device cpu")
        return device
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    index = int(match["index"] or match["bare"] or 0)
    if count == 0:
        raise MotCliError(
            f"--device {device}: no CUDA GPU is available on this machine (torch "
            f"{torch.__version__}); use --device cpu"
        )
    if index >= count:
        raise MotCliError(
            f"--device {device}: this machine has {count} CUDA GPU(s), numbered 0-{count - 1}"
        )
    return device
