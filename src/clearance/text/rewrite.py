"""Offer a safe rewrite and a steering negative prompt for a blocked or reviewed prompt.

The CopyCat paper measured that adding the work's name and identifying keywords to the
negative prompt cuts reproductions from ~30% to ~4%; removing the names and the clauses
that carry the identifying traits gives the user something generatable instead of a bare
refusal. Spans come from the matches' evidence, so a rewrite removes exactly what was
matched: every matched name, and every clause that resembles a trait of a matched work. The
screener screens each rewrite again and rewrites what is still found (``Screener``), since a
prompt can name a work twice or describe it in more clauses than the score rested on.
"""

from __future__ import annotations

import re

from clearance.registry.views import RegistrySnapshot, description_texts
from clearance.signals.text_semantic import CLAUSE_WORDS
from clearance.text.keywords import RANKS, telling_words
from clearance.verdict import MAX_MATCHES, Match

GENERIC = {"title": "an original story", "alias": "an original story", "character": "an original character",
           "element": "an original design"}
"""What stands in for a matched name, by the first word of its role ("element alias", "character (part)")."""
FALLBACK = "an original character"
"""What is offered when no rewrite of the prompt itself screens clean."""
MAX_KEYWORDS = 6
ARTICLE_BEFORE = re.compile(r"\b(?:an?|the)\s+$", re.IGNORECASE)
"""An article before a replaced name, which the replacement brings its own of."""
RANK_BEFORE = re.compile(rf"\b(?:(?:an?|the)\s+)?(?:{'|'.join(sorted(RANKS))})\.?\s+$", re.IGNORECASE)
"""A rank or form of address before a replaced character's name ("Chief Jim Hopper"), which goes
with it: "Chief an original character" (a QA pass, 2026-12-08)."""
CONNECTOR_BEFORE = re.compile(rf"\b{CLAUSE_WORDS}\s*$", re.IGNORECASE)
"""The word that joined a removed clause to the one before it: "a boy with round glasses" without
its glasses is "a boy", not "a boy with"."""
LEADING_CONNECTORS = re.compile(rf"^(?:{CLAUSE_WORDS}\b[\s,;:]*)+", re.IGNORECASE)
REPEATED_GENERIC = re.compile(r"\b(an original \w+)(?:[\s,]+\1\b)+")


def remove_matched(prompt: str, matches: list[Match]) -> str:
    """Replace matched names with generic words and drop the clauses that matched descriptions."""
    edits: list[tuple[int, int, str]] = []
    for m in matches:
        span = m.details.get("span")
        if span:
            role = (m.details.get("role") or "character").split()[0]
            before = prompt[: span[0]]  # "a Pikachu plush": not "a an original..."
            lead = (RANK_BEFORE.search(before) if role == "character" else None) or ARTICLE_BEFORE.search(before)
            start = lead.start() if lead else span[0]
            edits.append((start, span[1], GENERIC.get(role, "an original character")))
        for clause in m.details.get("prompt_clauses") or [m.details.get("prompt_clause")]:
            if clause and clause in prompt:
                start = prompt.index(clause)
                joined = CONNECTOR_BEFORE.search(prompt[:start])
                edits.append((joined.start() if joined else start, start + len(clause), ""))
    kept: list[tuple[int, int, str]] = []
    for edit in sorted(edits, key=lambda e: (e[0] - e[1], e[0])):  # the longest of overlapping edits wins
        if not any(edit[0] < end and start < edit[1] for start, end, _ in kept):  # "Harry Potter", not "Harry"
            kept.append(edit)
    text = prompt
    for start, end, replacement in sorted(kept, reverse=True):  # from the end: earlier offsets stay valid
        before, after = text[start - 1 : start], text[end : end + 1]  # a Latin word or number glued on
        text = (text[:start] + (" " if replacement and _latin_word_char(before) else "") + replacement
                + (" " if replacement and _latin_word_char(after) else "") + text[end:])  # "Vecna2024"
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r"(?<!:)([,;:])(?!:)\s*(?=[,;:.!?])", "", text)  # not Midjourney's weights, "forest::1"
    text = re.sub(r"\s{2,}", " ", text).strip(" ,;:-")
    text = LEADING_CONNECTORS.sub("", text)
    return REPEATED_GENERIC.sub(r"\1", text).strip(" ,;:-")


def _latin_word_char(char: str) -> bool:
    """A letter or digit of ASCII, which a replacement must not be glued to ("an original character2024");
    Chinese and Japanese put no space around a Latin word, so their letters stay glued."""
    return char.isascii() and char.isalnum()


def too_little_left(text: str) -> bool:
    """Whether a rewrite is a stray word of the prompt ("red", of a boy wizard's whole description,
    or nothing), with no generic stand-in either: the generic ``FALLBACK`` reads better."""
    return not any(g in text for g in GENERIC.values()) and len(re.findall(r"\w+", text)) < 2


def negative_prompt_for(negative_prompt: str | None, matches: list[Match], snapshot: RegistrySnapshot) -> str:
    """The caller's negative prompt, then titles, matched character/element names and the rarest
    words of their descriptions, as written."""
    terms = [negative_prompt.strip()] if negative_prompt and negative_prompt.strip() else []
    for m in matches[:MAX_MATCHES]:  # the verdict's own, strictest first
        work = snapshot.by_key.get((m.owner, m.work_id))
        if work is None or m.licensed:
            continue
        terms.append(work.title)
        if m.element:
            terms.append(m.element)
        element = next((e for e in work.elements if e.name == m.element), None)
        texts = [element.description] if element and element.description else description_texts(work)
        terms += telling_words(texts)[:MAX_KEYWORDS]
    given = {t.strip().casefold() for t in (negative_prompt or "").split(",")}  # said once, not twice
    return ", ".join(dict.fromkeys(t for i, t in enumerate(terms) if t and (i == 0 or t.casefold() not in given)))
