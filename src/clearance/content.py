"""``Content``: one thing to screen, shared by the screener, the signals and the media decoders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar


class Decoded(Protocol):
    """A decoder's result that may cover only the start of the content."""

    truncated: bool

    @property
    def seconds(self) -> float: ...


D = TypeVar("D", bound=Decoded)


@dataclass(frozen=True)
class _Failed:
    error: ValueError


@dataclass
class Content:
    """One thing to screen: a prompt, or a media file given by path or bytes.

    ``memo`` lets signals share expensive work (one decode of an image serves PDQ and SSCD)
    without knowing about each other.
    """

    kind: str  # text | image | video | audio
    text: str | None = None
    path: Path | None = None
    data: bytes | None = None
    name: str | None = None
    unscreened: list[str] = field(default_factory=list)
    """What of this content the decoders left out (the tail of a long video): the screener
    reports it as an error, so nothing nobody looked at is silently allowed."""
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)

    def memo(self, key: str, compute):
        """``compute()`` once per key. A failure is remembered too: a corrupt file is decoded once,
        and every signal that needs it gets the same error (reported once, naming them all)."""
        if key not in self._memo:
            try:
                self._memo[key] = compute()
            except ValueError as exc:  # MediaError and the decoders' own (not worth trying twice)
                self._memo[key] = _Failed(exc)
        value = self._memo[key]
        if isinstance(value, _Failed):
            raise value.error
        return value

    def decoded(self, key: str, decode: Callable[[], D | None], what: str) -> D | None:
        """``memo`` of a decoder that stops at a cap: what it left out is noted in ``unscreened``."""

        def run() -> D | None:
            result = decode()
            if result is not None and result.truncated:
                self.unscreened.append(f"{what} screened on its first {result.seconds:.0f} s only")
            return result

        return self.memo(key, run)

    def read_bytes(self) -> bytes:
        if self.data is not None:
            return self.data
        if self.path is None:
            raise ValueError("content has neither bytes nor a path")
        return self.path.read_bytes()
