"""Typed manifest entries: what a run folder's manifest.json says about one stage.

Every stage writes the same few fields (key, complete, config, frames, rows, seconds,
upstream) plus its own (a model, a score map, a track count…). `StageEntry` types the shared
ones and keeps the rest in `extra`; it reads like the JSON dict it stands for (`entry["rows"]`,
`entry.get("model")`), so readers need not know which field is which. `RunDir.write_entry`
and `RunDir.read_entry` are the only way entries reach or leave the manifest.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

_TYPED = ("key", "complete", "config", "frames", "rows", "seconds", "upstream")


@dataclass(frozen=True)
class StageEntry(Mapping[str, Any]):
    """One stage's manifest entry. `frames` is the (first, last) range it covered; `upstream`
    the keys of the caches it read; `extra` the stage's own fields, written beside them."""

    key: str | None = None
    complete: bool | None = None
    config: Mapping[str, Any] | None = None
    frames: tuple[int, int] | None = None
    rows: int | None = None
    seconds: float | None = None
    upstream: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        clash = set(self.extra) & set(_TYPED)
        if clash:
            raise ValueError(f"StageEntry extra repeats typed fields: {sorted(clash)}")
        if self.frames is not None:
            first, last = self.frames
            object.__setattr__(self, "frames", (int(first), int(last)))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StageEntry:
        """The entry a manifest holds (a field it lacks is None, and stays absent when written)."""
        frames = data.get("frames")
        return cls(
            key=data.get("key"),
            complete=data.get("complete"),
            config=data.get("config"),
            frames=None if frames is None else (frames[0], frames[1]),
            rows=data.get("rows"),
            seconds=data.get("seconds"),
            upstream=data.get("upstream"),
            extra={name: value for name, value in data.items() if name not in _TYPED},
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: typed fields that are set, then `extra` (frames as a list)."""
        out: dict[str, Any] = {}
        for spec in fields(self):
            value = getattr(self, spec.name)
            if spec.name == "extra" or value is None:
                continue
            out[spec.name] = list(value) if spec.name == "frames" else value
        return {**out, **self.extra}

    def with_fields(self, **changes: Any) -> StageEntry:
        """A copy with typed fields and/or extra fields changed (`wall=[…]`, `ids=3`)."""
        typed = {name: value for name, value in changes.items() if name in _TYPED}
        extra = {name: value for name, value in changes.items() if name not in _TYPED}
        return replace(self, **typed, extra={**self.extra, **extra})

    def __getitem__(self, name: str) -> Any:
        return self.to_dict()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_dict())

    def __len__(self) -> int:
        return len(self.to_dict())
