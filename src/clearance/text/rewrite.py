"""Offer a safe rewrite and a steering negative prompt for a blocked or reviewed prompt.

The CopyCat paper measured that adding the work's name and identifying keywords to the
negative prompt cuts reproductions from ~30% to ~4%; removing the names and the clauses
that carry the identifying traits gives the user something generatable instead of a bare
refusal. Spans come from the matches' evidence, so the rewrite removes exactly what was
matched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from clearance.registry.views import RegistrySnapshot, description_texts
from clearance.text.keywords import telling_words
from clearance.verdict import Match

GENERIC = {"title": "an original story", "alias": "an original story", "character": "an original character",
           "character alias": "an original character", "element": "an original design",
           "element alias": "an original design"}
MAX_KEYWORDS = 6
ARTICLE_BEFORE = re.compile(r"\b(?:an?|the)\s+$", re.IGNORECASE)
"""An article before a replaced name, which the replacement brings its own of."""


@dataclass(frozen=True)
class Rewrite:
    prompt: str
    negative_prompt: str


def _remove_spans(prompt: str, matches: list[Match]) -> str:
    """Replace matched names with generic words and drop matched description clauses."""
    edits: list[tuple[int, int, str]] = []
    for m in matches:
        span = m.details.get("span")
        if span:
            article = ARTICLE_BEFORE.search(prompt[: span[0]])  # "a Pikachu plush": not "a an original..."
            start = article.start() if article else span[0]
            edits.append((start, span[1], GENERIC.get(m.details.get("role", ""), "an original character")))
        clause = m.details.get("prompt_clause")
        if clause and clause in prompt:
            start = prompt.index(clause)
            edits.append((start, start + len(clause), ""))
    text = prompt
    taken: list[tuple[int, int]] = []
    for start, end, replacement in sorted(edits, key=lambda e: (e[0], -(e[1] - e[0])), reverse=True):
        if any(start < e and s < end for s, e in taken):
            continue
        text = text[:start] + replacement + text[end:]
        taken.append((start, end))
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r"([,;:])\s*(?=[,;:])", "", text)
    text = re.sub(r"\s{2,}", " ", text).strip(" ,;:-")
    return text


def _negative_terms(matches: list[Match], snapshot: RegistrySnapshot) -> list[str]:
    """Titles, matched character/element names and the rarest words of their descriptions, as written."""
    terms: list[str] = []
    for m in matches:
        work = snapshot.by_key.get((m.owner, m.work_id))
        if work is None:
            continue
        terms.append(work.title)
        if m.element:
            terms.append(m.element)
        element = next((e for e in work.elements if e.name == m.element), None)
        texts = [element.description] if element and element.description else description_texts(work)
        terms += telling_words(texts)[:MAX_KEYWORDS]
    return list(dict.fromkeys(t for t in terms if t))


def rewrite_prompt(
    prompt: str, negative_prompt: str | None, matches: list[Match], snapshot: RegistrySnapshot
) -> Rewrite:
    relevant = [m for m in matches if not m.licensed]
    rewritten = _remove_spans(prompt, relevant)
    negatives = ([negative_prompt.strip()] if negative_prompt and negative_prompt.strip() else [])
    negatives += _negative_terms(relevant, snapshot)
    return Rewrite(prompt=rewritten, negative_prompt=", ".join(dict.fromkeys(negatives)))
