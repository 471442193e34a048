"""Turn matches into an action: the work's policy, the caller's licences, the thresholds.

Kept apart from the signals so a rights holder's policy change (block -> review) or a new
licence takes effect without touching any index.
"""

from __future__ import annotations

from collections.abc import Iterable, Set

from clearance.signals.base import BLOCK_SCORE, REVIEW_SCORE
from clearance.verdict import Action, Match


def action_for(match: Match, policy: str) -> Action:
    """One match under its work's policy (licensed or mitigated matches are always allowed)."""
    if match.licensed or match.mitigated or policy == "allow" or match.score < REVIEW_SCORE:
        return Action.ALLOW
    if match.score >= BLOCK_SCORE and policy == "block":
        return Action.BLOCK
    return Action.REVIEW


def mitigate(matches: Iterable[Match], named_in_negative: set[tuple[str, str]]) -> None:
    """A work the negative prompt names is being steered away from: resemblance to its
    descriptions alone does not block (naming it in the prompt itself still does)."""
    for match in matches:
        if match.basis == "description" and (match.owner, match.work_id) in named_in_negative:
            match.mitigated = True


def decide(matches: list[Match], policies: dict[tuple[str, str], str], licensed: Set[tuple[str, str]]) -> Action:
    """The strictest action over all matches; marks licensed matches as such and puts the matches in
    order, those that decide first: by the action each gives, then by score."""
    actions = {}
    for match in matches:
        key = (match.owner, match.work_id)
        match.licensed, match.policy = key in licensed, policies.get(key, "block")
        actions[id(match)] = action_for(match, match.policy)
    matches.sort(key=lambda m: (actions[id(m)].rank, m.score), reverse=True)
    return Action.strictest(list(actions.values()))
