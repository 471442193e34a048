"""The one result type of every enforcement point: a ``Verdict`` made of ``Match`` evidence.

Prompt screening, media screening, scrub and sweep all return this, the audit log stores
it, and the service serialises it, so a rights holder sees the same evidence everywhere.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, field_validator

from clearance.safe_text import printable


class Action(StrEnum):
    """What the platform must do; ordered so that ``max`` picks the strictest."""

    ALLOW = "allow"
    REVIEW = "review"
    BLOCK = "block"

    @property
    def rank(self) -> int:
        return ("allow", "review", "block").index(self.value)

    @staticmethod
    def strictest(actions: list[Action]) -> Action:
        return max(actions, key=lambda a: a.rank, default=Action.ALLOW)


class Subject(StrEnum):
    """What a verdict was given on, the kind of its audit entry: a rights holder reading the log tells
    a refused generation request (``prompt``) from an uploaded or generated file (``media``) and from
    an item of a dataset scrub or an output sweep, media with its caption (``record``)."""

    PROMPT = "prompt"
    MEDIA = "media"
    RECORD = "record"


class Match(BaseModel):
    """One piece of evidence: this signal saw this work (and element) with this score."""

    work_id: str
    owner: str
    element: str | None = None
    signal: str
    basis: str = Field("media", description="name | description | media: what the evidence rests on")
    score: float = Field(ge=0.0, le=1.0, description="calibrated: 0.5 = review, 0.8 = block")
    raw_score: float | None = None
    evidence: str = ""
    details: dict[str, Any] = Field(default_factory=dict)
    policy: str | None = Field(None, description="the work's policy when the verdict was made (block, review, allow)")
    licensed: bool = False
    mitigated: bool = Field(False, description="the negative prompt names this work: a description match is allowed")


MAX_MATCHES = 20
"""A verdict lists at most this many matches, strictest first (``matches_omitted`` counts the rest):
300 works sharing a word ("Zyzzogeton: Episode 1" ... "300") gave one prompt 300 matches, and
20,000 a 9.6 MB verdict, returned and written to the audit log."""


class Verdict(BaseModel):
    """The decision on one prompt or one media item, with everything needed to explain it."""

    id: str | None = None
    path: str | None = None
    action: Action
    score: float = 0.0
    matches: list[Match] = Field(default_factory=list)
    matches_omitted: int = Field(0, description="matches left out of `matches` (at most MAX_MATCHES are listed)")
    rewritten_prompt: str | None = None
    negative_prompt: str | None = None
    error: str | None = None
    audit_id: str | None = None
    versions: dict[str, str] = Field(default_factory=dict)

    @field_validator("id", "path", "error")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        """Ids, paths and errors come from outside (file names that are not UTF-8, JSON escapes)
        and go to every writer: spelled so that each can store them (``clearance.safe_text``)."""
        return None if value is None else printable(value)

    def public(self) -> dict[str, Any]:
        """The CONTRACT.md shape: drop empty optional fields so outputs stay readable."""
        data = self.model_dump(mode="json")
        for key in ("id", "path", "rewritten_prompt", "negative_prompt", "error"):
            if data.get(key) is None:
                data.pop(key, None)
        if not data.get("matches_omitted"):
            data.pop("matches_omitted", None)
        return data

    def trimmed(self) -> Verdict:
        """This verdict listing at most ``MAX_MATCHES`` matches (they come strictest first)."""
        if len(self.matches) <= MAX_MATCHES:
            return self
        return self.model_copy(update={"matches": self.matches[:MAX_MATCHES],
                                       "matches_omitted": self.matches_omitted + len(self.matches) - MAX_MATCHES})
