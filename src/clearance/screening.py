"""The screening API: prompts and media in, audited ``Verdict`` out.

This is the one entry point the CLI, the service, scrub and sweep call. It runs every
registered signal type that handles the content's kind, lets the policy decide, and
appends the verdict to the audit log. Any failure inside a signal becomes a ``review``
verdict with an ``error``: a check that cannot run never silently allows.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import warnings
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from clearance import __version__
from clearance.batch.items import Item
from clearance.content import Content
from clearance.folders import not_a_file
from clearance.home import Home
from clearance.media.probe import MediaError, detect_kind
from clearance.parallel import ordered_map, working
from clearance.policy import decide, mitigate
from clearance.registry.media_store import MediaStore
from clearance.registry.views import RegistrySnapshot
from clearance.safe_text import screenable
from clearance.signals import SIGNAL_TYPES
from clearance.signals.base import SignalType
from clearance.text.keywords import wordfreq_zipf
from clearance.text.normalize import shows_nothing
from clearance.text.rewrite import FALLBACK, negative_prompt_for, remove_matched, too_little_left
from clearance.verdict import Action, Match, Subject, Verdict

if TYPE_CHECKING:
    from clearance.audit import PendingEntry

FRESHNESS_S = 0.5
"""How stale the registry view may be: the revision is read at most this often (a server starts
switching to a changed registry within this time; a thread sees its own changes at once)."""
log = logging.getLogger(__name__)

MAX_UNCOMMITTED = 64
"""A batch runs at most this many verdicts ahead of the audit log's commits."""
MAX_PROMPT_CHARS = 20_000
"""Longer prompts are screened on their first this-many characters and flagged for review."""
REWRITE_ROUNDS = 3
"""Rewrites screened again before a blocked or reviewed prompt is offered the generic fallback:
each round costs a screening, paid only by prompts that are not allowed."""
REWRITE_MAX_CHARS = 2_000
"""A longer prompt is offered the fallback at once: a round over a 20,000-character prompt is
seconds of CPU (three rounds took a flagged 100 kB prompt from 1.9 to 8.6 s, 2026-12-04), which the
rate limit's charge for long prompts (``service.rate_limit.prompt_cost``) does not cover."""


class EmptyRegistryWarning(UserWarning):
    """Screening against a registry with no works: everything is allowed, and the usual cause is a
    home that is not the intended one. The CLI says so in its own words and silences this one."""


def warn_empty_registry(home: Home) -> None:
    """Say, to the program that screens, that everything will be allowed and why. Batch jobs say it
    in their own process; their workers keep quiet (a spawned worker's stderr names no caller)."""
    warnings.warn(f"the registry in {home.root} has no works, so every verdict is allow (a mistyped home opens a "
                  "new, empty one)", EmptyRegistryWarning,
                  skip_file_prefixes=(os.path.dirname(__file__),))  # names the caller's line


@dataclass(frozen=True)
class PromptRequest:
    """One prompt of a batch (``Screener.screen_prompts``). ``error`` marks a request that could not
    be read (a bad line of a file): it gets the fail-closed ``review`` verdict in its place."""

    prompt: str = ""
    negative_prompt: str | None = None
    id: str | None = None
    error: str | None = None


@dataclass
class _Loaded:
    """One registry view: the registry state, and signal instances indexed for it (or indexed on
    first use, for signals no request has needed yet). Requests take a view once and use it
    throughout, so a registry change never shows them half-built indexes."""

    snapshot: RegistrySnapshot
    policies: dict[tuple[str, str], str]
    signals: list[SignalType]
    writes: int
    """``Registry.writes`` when the view was taken: changes counted after it are not in it."""


class Screener:
    """Screens content against the registry of one home. Thread-safe; load once per process."""

    def __init__(
        self,
        home: Home,
        signal_types: Sequence[type[SignalType]] = SIGNAL_TYPES,
        allowed_roots: Sequence[Path] | None = None,
    ) -> None:
        self.home = home
        self.allowed_roots = [Path(r).resolve() for r in allowed_roots] if allowed_roots else None
        self._first_signals = [t(home.index_dir / t.name) for t in signal_types]
        for signal in self._first_signals:
            threading.Thread(target=_preload, args=(signal,), name=f"preload-{signal.name}").start()
        # The database layer is imported only now (SQLAlchemy takes ~0.4 s to import): a new process
        # imports it while the models load (~0.5 s, mostly outside the GIL) instead of before.
        from clearance.audit import AuditLog
        from clearance.db.engine import session_factory
        from clearance.registry.store import Registry

        sessions = session_factory(home.database_url)
        self.registry = Registry(sessions, MediaStore(home.media_dir))
        self.audit = AuditLog(sessions)
        self._switching = threading.Lock()
        self._pinned = threading.local()
        self._loaded: _Loaded | None = None
        self._checked_at = 0.0
        self._licences_read: dict[str, tuple[float, int, frozenset[tuple[str, str]]]] = {}

    # -- registry freshness -------------------------------------------------------------
    @property
    def signals(self) -> list[SignalType]:
        """The signal instances of the current registry view."""
        return self.refresh().signals

    def refresh(self, wait: bool = False) -> _Loaded:
        """The current registry view (the revision is read at most once per ``FRESHNESS_S``).

        When the registry has changed, a new view is built while requests go on with the old one:
        rebuilding the indexes of 10,000 works takes ~13 s, which every request used to wait for.
        Only the first view, a thread's own changes (it reads its writes) and ``wait`` block.
        Inside ``_one_view`` (one verdict being made) it answers that verdict's view."""
        pinned = getattr(self._pinned, "view", None)
        if pinned is not None and not wait:
            return pinned
        loaded = self._loaded
        now = time.monotonic()
        own_change = loaded is not None and self.registry.last_write_of_this_thread() > loaded.writes
        if loaded is not None and not (wait or own_change) and now - self._checked_at < FRESHNESS_S:
            return loaded
        self._checked_at = now
        if loaded is not None and loaded.snapshot.revision == self.registry.revision():
            loaded.writes = max(loaded.writes, self.registry.last_write_of_this_thread())  # it changed nothing
            return loaded
        if loaded is None or wait or own_change:
            return self._switch(blocking=True)
        threading.Thread(target=self._switch, kwargs={"blocking": False}, name="registry-view", daemon=True).start()
        return loaded

    def _switch(self, blocking: bool) -> _Loaded:
        """Build a view of the registry as it is now and make it current. Not ``blocking``: return at
        once when another thread is already building one (it will be current soon enough)."""
        if not self._switching.acquire(blocking=blocking):
            return self._loaded
        try:
            writes = self.registry.writes  # before the snapshot: later changes may not be in it
            snapshot = self.registry.snapshot()
            current = self._loaded
            if current is not None and current.snapshot.revision == snapshot.revision:
                current.writes = max(current.writes, writes)
                return current
            if current is None:  # the views own their signals from here on, so an old view can be freed
                signals, self._first_signals = self._first_signals, []
            else:
                signals = _indexed_like(current.signals, snapshot)
            self._loaded = _Loaded(snapshot, snapshot.policies, signals, writes)
            if not snapshot.policies and signals:  # not .works: reading 10,000 works was 0.65 s of a cold start
                warn_empty_registry(self.home)
            return self._loaded
        finally:
            self._switching.release()

    @contextmanager
    def _one_view(self) -> Iterator[None]:
        """Make one verdict from one registry view: every ``refresh`` of this thread until the end of
        the block (nested calls included) answers the view it started with, so a view switch in the
        middle cannot give a verdict the matches of one registry and the policies of another."""
        if getattr(self._pinned, "view", None) is not None:
            yield
            return
        self._pinned.view = self.refresh()
        try:
            with working():
                yield
        finally:
            self._pinned.view = None

    def _licences(self, tenant: str) -> frozenset[tuple[str, str]]:
        """The tenant's licensed works, as fresh as the registry view (re-read after ``FRESHNESS_S``,
        or at once after a change made through this screener): a query per request was ~7% of a
        prompt request's CPU."""
        now, writes = time.monotonic(), self.registry.writes
        read = self._licences_read.get(tenant)
        if read is not None and now - read[0] < FRESHNESS_S and read[1] == writes:
            return read[2]
        licensed = frozenset(self.registry.licensed_works(tenant))
        self._licences_read[tenant] = (now, writes, licensed)
        return licensed

    def catch_up(self) -> None:
        """See every registry change committed so far, another process's included, before
        returning (the service's screening processes, after an import through the API)."""
        self._licences_read.clear()
        self.refresh(wait=True)

    def follow_registry(self) -> None:
        """Keep the registry view current from a background thread (a server's screening process).
        ``refresh`` alone notices a change only when a request asks, and that request is still
        answered from the view it found: an idle server screened its first request after an import
        against the registry as it was, however long ago the import was."""
        threading.Thread(target=self._follow, name="registry-follow", daemon=True).start()

    def _follow(self) -> None:
        while True:
            time.sleep(FRESHNESS_S)
            try:
                self.refresh()
            except Exception:  # the database gone for a moment: requests meanwhile fail closed on their own
                log.warning("could not read the registry revision", exc_info=True)

    def warm_up(self) -> None:
        """Build indexes and load models now rather than on the first request."""
        loaded = self.refresh(wait=True)
        for signal in loaded.signals:
            signal.ensure_indexed(loaded.snapshot)
        _ = loaded.snapshot.by_key  # the works, which a match's negative prompt names: read now, not on a request
        self.screen_prompt("warm up", audit=False)
        wordfreq_zipf()  # words with digits or of other scripts ask wordfreq itself: ~0.5 s to read its list

    # -- public API ---------------------------------------------------------------------
    def screen_prompt(
        self,
        prompt: str,
        negative_prompt: str | None = None,
        *,
        item_id: str | None = None,
        tenant: str | None = None,
        references: Sequence[Path | str | bytes] = (),
        audit: bool = True,
    ) -> Verdict:
        """Screen a generation request: its prompt plus any uploaded reference media.

        The negative prompt is never screened for names: naming a work there is the
        mitigation. It is only echoed back, merged with our suggested negative terms.
        """
        references = _several("references", references)
        with self._one_view():
            return self._finish(self._prompt_verdict(prompt, negative_prompt, item_id, tenant, references),
                                tenant, audit, Subject.PROMPT)

    def _prompt_verdict(self, prompt: str, negative_prompt: str | None, item_id: str | None, tenant: str | None,
                        references: Iterable[Path | str | bytes], rewrite: bool = True) -> Verdict:
        errors: list[str] = []
        if problem := _not_text(prompt=prompt, negative_prompt=negative_prompt):
            return Verdict(id=item_id, action=Action.REVIEW, error=problem)
        if prompt is None or shows_nothing(prompt):
            return Verdict(id=item_id, action=Action.REVIEW, error="empty prompt")
        if len(prompt) > MAX_PROMPT_CHARS:
            errors.append(f"prompt of {len(prompt)} characters truncated to {MAX_PROMPT_CHARS} for screening")
            prompt = prompt[:MAX_PROMPT_CHARS]
        prompt, invalid = screenable(prompt)
        if negative_prompt:
            negative_prompt, invalid_negative = screenable(negative_prompt)
            invalid += invalid_negative
        if invalid:
            errors.append(f"{invalid} lone surrogate code point(s) (not valid Unicode) screened as U+FFFD")
        matches, signal_errors = self._run(Content(kind="text", text=prompt), tenant)
        errors += signal_errors
        if negative_prompt and negative_prompt.strip() and any(m.basis == "description" for m in matches):
            mitigate(matches, self._named_works(negative_prompt[:MAX_PROMPT_CHARS]))
        for ref in references:
            media = self.screen_media(ref, tenant=tenant, audit=False)
            matches += media.matches
            if media.error:
                errors.append(f"reference {media.path}: {media.error}")
        verdict = self._verdict(matches, errors, tenant, id=item_id)
        if verdict.action != Action.ALLOW and rewrite:
            verdict.rewritten_prompt, found = self._safe_rewrite(prompt, verdict.matches, tenant)
            verdict.negative_prompt = negative_prompt_for(negative_prompt, found, self.refresh().snapshot)
        return verdict

    def _safe_rewrite(self, prompt: str, matches: list[Match], tenant: str | None) -> tuple[str, list[Match]]:
        """A rewrite of the prompt that screens ``allow`` for this caller, and every match met on the
        way (for the negative prompt). Each round removes what screening the last rewrite still
        found (a second mention of a name, a trait the score did not rest on); after
        ``REWRITE_ROUNDS`` (at once past ``REWRITE_MAX_CHARS``) the generic ``FALLBACK``, so what
        is offered as safe always is."""
        found, text, latest = list(matches), prompt, matches
        for _ in range(REWRITE_ROUNDS if len(prompt) <= REWRITE_MAX_CHARS else 0):
            text = remove_matched(text, [m for m in latest if not m.licensed])
            if too_little_left(text):
                break
            latest, errors = self._run(Content(kind="text", text=text), tenant)
            if self._verdict(latest, errors, tenant).action == Action.ALLOW:
                return text, found
            found += latest
        return FALLBACK, found

    def screen_prompts(self, requests: Iterable[PromptRequest], *, tenant: str | None = None) -> Iterator[Verdict]:
        """``screen_prompt`` of each request, in order and audited in order, several at a time
        (``clearance.parallel``): two at a time on two cores screened 1.7-1.8x as many dev prompts
        a second as one at a time (one-off, 10,000 works, 2026-12-06), and every verdict is the
        one the prompt gets alone (each text is its own model call)."""
        verdicts = ordered_map(partial(self._request_verdict, tenant=tenant), requests)
        yield from self._finish_all(((v, True) for v in verdicts), tenant, Subject.PROMPT)

    def _request_verdict(self, request: PromptRequest, tenant: str | None) -> Verdict:
        """The verdict on one batch request, before licences and audit (safe to run in threads)."""
        if not isinstance(request, PromptRequest):
            return Verdict(action=Action.REVIEW, error=f"not a PromptRequest: {type(request).__name__}")
        if request.error is not None:
            return Verdict(id=request.id, action=Action.REVIEW, error=request.error)
        with self._one_view():
            return self._prompt_verdict(request.prompt, request.negative_prompt, request.id, tenant, ())

    def screen_media(
        self, source: Path | str | bytes, *, name: str | None = None, tenant: str | None = None, audit: bool = True
    ) -> Verdict:
        """Screen one image, video or audio file (a path, as ``Path`` or ``str``, or its bytes)."""
        return self._finish(self._media_verdict((source, _label(source, name)), tenant), tenant, audit,
                            Subject.MEDIA)

    def screen_media_many(
        self, sources: Iterable[Path | str | bytes], *, tenant: str | None = None, audit: bool = True
    ) -> Iterator[Verdict]:
        """``screen_media`` of each source, in order, several at a time (``clearance.parallel``)."""
        labelled = ((source, _label(source, None)) for source in _several("sources", sources))
        verdicts = ordered_map(partial(self._media_verdict, tenant=tenant), labelled)
        yield from self._finish_all(((v, audit) for v in verdicts), tenant, Subject.MEDIA)

    def screen_item(
        self,
        key: str,
        caption: str | None = None,
        media: bytes | None = None,
        *,
        media_name: str | None = None,
        error: str | None = None,
        tenant: str | None = None,
        audit_allowed: bool = False,
    ) -> Verdict:
        """One dataset record (caption and/or media) as one verdict: the strictest of both.

        Allowed records are not audited unless asked (a scrub of millions of clean records
        should not write millions of log entries); removed and review records always are.
        """
        item = Item(key=key, caption=caption, media=((media_name or key, media),) if media is not None else (),
                    error=error)
        verdict = self._item_verdict(item, tenant)
        return self._finish(verdict, tenant, audit_allowed or verdict.action != Action.ALLOW, Subject.RECORD)

    def screen_items(
        self, records: Iterable[Item], *, tenant: str | None = None, audit_allowed: bool = False
    ) -> Iterator[Verdict]:
        """``screen_item`` of each record, in order, several at a time (``clearance.parallel``)."""
        verdicts = ordered_map(partial(self._item_verdict, tenant=tenant), records)
        yield from self._finish_all(((v, audit_allowed or v.action != Action.ALLOW) for v in verdicts), tenant,
                                    Subject.RECORD)

    # -- internals ----------------------------------------------------------------------
    def _media_verdict(self, labelled: tuple[Path | bytes, str], tenant: str | None) -> Verdict:
        """The verdict on one media file, before licences and audit (safe to run in threads)."""
        source, label = labelled
        try:
            content = self._media_content(source, label)
        except (MediaError, OSError) as exc:
            return Verdict(path=label, action=Action.REVIEW, error=str(exc))
        with self._one_view():
            matches, errors = self._run(content, tenant)
            return self._verdict(matches, errors, tenant, path=label)

    def _item_verdict(self, record: Item, tenant: str | None) -> Verdict:
        """The verdict on one dataset record, before licences and audit (safe to run in threads).
        A caption or a piece of media that already blocks the record spares screening the rest
        (as in ``_run``)."""
        if not isinstance(record, Item):
            return Verdict(action=Action.REVIEW, error=f"not an Item: {type(record).__name__}")
        with self._one_view():
            return self._record_verdict(record, tenant)

    def _record_verdict(self, record: Item, tenant: str | None) -> Verdict:
        matches: list[Match] = []
        errors = [record.error] if record.error else []
        caption_blocks = False
        if problem := _not_text(caption=record.caption):
            errors.append(problem)
        elif record.caption is not None and not shows_nothing(record.caption):
            text = self._prompt_verdict(record.caption, None, None, tenant, (), rewrite=False)  # no one reads a rewrite
            matches += text.matches
            errors += [text.error] if text.error else []
            caption_blocks = text.action == Action.BLOCK
        for name, source in () if caption_blocks else record.media:
            seen = self._media_verdict((source, name), tenant)
            matches += seen.matches
            errors += [f"media {name}: {seen.error}"] if seen.error else []
            if self._blocks(seen.matches, self.refresh(), tenant):  # with the tenant's licences, as in ``_run``
                break
        if record.caption is None and not record.media and not errors:
            errors.append("record has neither media nor caption")
        return self._verdict(matches, errors, tenant, id=record.key)

    def _media_content(self, source: Path | str | bytes, label: str) -> Content:
        if isinstance(source, bytes | bytearray | memoryview):
            return Content(kind=detect_kind(data=bytes(source)), data=bytes(source), name=label)
        if not isinstance(source, str | os.PathLike):
            raise MediaError(f"not a path or bytes: {type(source).__name__}")
        path = Path(source)
        if self.allowed_roots is not None and not any(
            path.resolve().is_relative_to(root) for root in self.allowed_roots
        ):
            raise MediaError(f"path outside the allowed roots: {path}")
        if not path.is_file():
            raise MediaError(not_a_file(path))
        return Content(kind=detect_kind(path=path), path=path, name=label)

    def _named_works(self, text: str) -> set[tuple[str, str]]:
        """Works the text names (used on negative prompts, which never block): only signals that
        match names run, so a negative prompt never costs a sentence-model pass."""
        matches, _ = self._run(Content(kind="text", text=text), None, bases=frozenset({"name"}))
        return {(m.owner, m.work_id) for m in matches}

    def _run(self, content: Content, tenant: str | None,
             bases: frozenset[str] | None = None) -> tuple[list[Match], list[str]]:
        """Matches of the signal types that screen this content (those giving evidence of ``bases``,
        if given), cheapest first (``SIGNAL_TYPES`` order), stopping once the caller's verdict is
        already ``block``: no costlier signal can make it stricter, so most named prompts never pay
        for the sentence model."""
        loaded = self.refresh()
        matches: list[Match] = []
        errors: list[str] = []
        unreadable: dict[str, list[str]] = {}  # one decoding error, the signals it stopped
        handlers = [s for s in loaded.signals
                    if content.kind in s.content_kinds and (bases is None or s.bases & bases)]
        if not handlers:
            errors.append(f"no signal type screens {content.kind} content")
        for signal in handlers:
            try:
                signal.ensure_indexed(loaded.snapshot)
                matches += signal.match(content)
            except MediaError as exc:
                unreadable.setdefault(str(exc), []).append(signal.name)
            except Exception as exc:
                errors.append(f"{signal.name} failed: {type(exc).__name__}: {exc}")
            if matches and self._blocks(matches, loaded, tenant):
                break
        errors += [f"{', '.join(names)}: {message}" for message, names in unreadable.items()]
        return matches, errors + content.unscreened

    def _blocks(self, matches: list[Match], loaded: _Loaded, tenant: str | None) -> bool:
        """Whether these matches block for this caller (its licences read only when they might)."""
        if decide(matches, loaded.policies, set()) != Action.BLOCK:
            return False
        return tenant is None or decide(matches, loaded.policies, self._licences(tenant)) == Action.BLOCK

    def _verdict(self, matches: list[Match], errors: list[str], tenant: str | None, **ident: str | None) -> Verdict:
        """The verdict on these matches under the work policies and the caller's licences."""
        loaded = self.refresh()
        licensed = self._licences(tenant) if tenant is not None and matches else frozenset()
        action = decide(matches, loaded.policies, licensed)
        return Verdict(
            **ident, action=Action.strictest([action, Action.REVIEW]) if errors else action,
            score=round(max((m.score for m in matches), default=0.0), 4), matches=matches,
            error="; ".join(errors) or None, versions=self._versions(loaded),
        )

    @staticmethod
    def _versions(loaded: _Loaded) -> dict[str, str]:
        versions = {"clearance": __version__, "registry_revision": str(loaded.snapshot.revision)}
        for signal in loaded.signals:
            versions.update(signal.model_versions())
            versions.update(signal.query_versions())
        return versions

    def _finish(self, verdict: Verdict, tenant: str | None, audit: bool, kind: Subject) -> Verdict:
        """Append to the audit log as an entry of ``kind`` (returns once the entry is durable)."""
        return next(self._finish_all([(verdict, audit)], tenant, kind))

    def _finish_all(self, decided: Iterable[tuple[Verdict, bool]], tenant: str | None,
                    kind: Subject) -> Iterator[Verdict]:
        """``_finish`` over a stream of (verdict, audit it?), in order. Each verdict is yielded
        once its audit entry is durable, but the stream does not stop for each commit: entries
        queue up and the log's writer commits them together (one transaction for many)."""
        waiting: deque[tuple[Verdict, PendingEntry | None]] = deque()
        failure: Exception | None = None
        try:
            for whole, audit in decided:
                verdict = whole.trimmed()
                verdict.versions = verdict.versions or {"clearance": __version__}
                entry = self.audit.submit(kind, verdict.public(), tenant,  # every matched work's owner may read it,
                                          [f"{m.owner}/{m.work_id}" for m in whole.matches]) if audit else None
                waiting.append((verdict, entry))
                while waiting and (len(waiting) > MAX_UNCOMMITTED or waiting[0][1] is None
                                   or waiting[0][1].done.is_set()):
                    yield _settled(*waiting.popleft())
        except Exception as exc:  # the caller's iterable failed: what is in the log is handed over first
            failure = exc
        while waiting:
            yield _settled(*waiting.popleft())
        if failure is not None:
            raise failure


def _indexed_like(in_use: list[SignalType], snapshot: RegistrySnapshot) -> list[SignalType]:
    """New instances of the same signal types for ``snapshot``, those already in use indexed now
    rather than in a request; one that fails is left to index on first use, where its error fails
    that request closed."""
    fresh = [type(signal)(signal.store_dir) for signal in in_use]
    for new, old in zip(fresh, in_use, strict=True):
        if old.fingerprint is None:
            continue
        try:
            new.ensure_indexed(snapshot)
        except Exception:
            log.warning("indexing %s for registry revision %s failed", new.name, snapshot.revision, exc_info=True)
    return fresh


def _settled(verdict: Verdict, entry: PendingEntry | None) -> Verdict:
    if entry is not None:
        verdict.audit_id = entry.wait()
    return verdict


def _preload(signal: SignalType) -> None:
    """Load a signal's models ahead of its first use. Only a warm-up: if it fails (a model that will
    not load, a malformed setting), the first screening that needs the signal fails the same way and
    reports it, as a ``review`` or a setup error, so here it is only logged."""
    try:
        signal.preload()
    except Exception as exc:
        log.debug("preloading %s failed: %s: %s", signal.name, type(exc).__name__, exc)


def _label(source: Path | str | bytes, name: str | None) -> str:
    return name or (os.fsdecode(source) if isinstance(source, str | os.PathLike) else "<upload>")


def _not_text(**values: object) -> str | None:
    """Why a value meant as text is not (bytes, a number), or None: a clear ``review`` rather than
    a ``TypeError`` from deep inside, or an "empty prompt" that was not empty."""
    wrong = [f"{name} is not text: {type(value).__name__}" for name, value in values.items()
             if value is not None and not isinstance(value, str)]
    return "; ".join(wrong) or None


def _several[T](name: str, values: Iterable[T]) -> Iterable[T]:
    """``values`` as an iterable of items, refusing one item given in its place: a ``str`` path is
    iterable too, and was screened as one file per character."""
    if isinstance(values, str | bytes | bytearray | os.PathLike):
        raise TypeError(f"{name}: an iterable of paths or bytes, not a single {type(values).__name__}")
    return values
