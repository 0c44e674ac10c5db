"""Loading TFLite models (MediaPipe, mobilePydnet) with the small `ai-edge-litert` runtime."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from mot_cli.errors import MotCliError


@contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Silence the runtime's C++ banner ("INFO: Created TensorFlow Lite XNNPACK delegate")."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class TfliteModel:
    """One TFLite interpreter with its tensors looked up by name, run one input at a time."""

    def __init__(self, path: Path, threads: int | None = None) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:  # pragma: no cover - a pinned dependency
            raise MotCliError(f"ai-edge-litert is needed to run {path.name} ({exc})") from None
        try:
            with _quiet_native_stderr():
                self.interpreter = Interpreter(
                    model_path=str(path), num_threads=threads or os.cpu_count() or 1
                )
                self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise MotCliError(f"{path}: cannot load as a TFLite model ({reason})") from None
        self.path = path
        self.input: dict[str, Any] = self.interpreter.get_input_details()[0]
        self.outputs: dict[str, dict[str, Any]] = {
            d["name"]: d for d in self.interpreter.get_output_details()
        }

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(v) for v in self.input["shape"])

    def output(self, name: str | None = None, shape: tuple[int, ...] | None = None) -> dict:
        """An output's details by name, else the first with `shape`; a wrong file is refused."""
        if name in self.outputs:
            return self.outputs[name]
        for details in self.outputs.values():
            if shape is not None and tuple(int(v) for v in details["shape"]) == shape:
                return details
        raise MotCliError(
            f"{self.path}: no output {name or shape} (outputs: {', '.join(self.outputs)}); "
            "is it the right model file?"
        )

    def run(self, tensor: np.ndarray, outputs: list[dict]) -> list[np.ndarray]:
        self.interpreter.set_tensor(self.input["index"], tensor.astype(np.float32, copy=False))
        self.interpreter.invoke()
        return [self.interpreter.get_tensor(d["index"]) for d in outputs]

    def expect_input(self, shape: tuple[int, ...]) -> None:
        if self.input_shape != shape:
            raise MotCliError(
                f"{self.path}: input shape {list(self.input_shape)}, expected {list(shape)}; "
                "is it the right model file?"
            )
