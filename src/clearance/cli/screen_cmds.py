"""``clearance screen``: prompts (one or a JSONL batch) and media files, per CONTRACT.md.

Batches never stop on a bad item: each bad line or file becomes a ``review`` verdict with
an ``error``; the exit status is 0 whenever the batch ran.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.table import Table

from clearance import strict_json
from clearance.cli.common import (
    DatabaseOption,
    HomeOption,
    JsonOption,
    console,
    fail,
    open_home,
    shown,
    warn,
    warn_if_empty,
)
from clearance.keys import check_tenant
from clearance.screening import PromptRequest, Screener
from clearance.verdict import Action, Verdict

app = typer.Typer(help="Screen prompts and media against the registry.", no_args_is_help=True)

def _tenant(tenant: str | None) -> str | None:
    """A tenant the log can record (``check_tenant``), or a usage error: one over the length the
    database takes crashed the audit append on PostgreSQL, after the screening (a QA pass)."""
    try:
        return None if tenant is None else check_tenant(tenant)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


TenantOption = Annotated[str | None, typer.Option(help="Platform tenant (its licences turn matches into allow).",
                                                  callback=_tenant)]
AllowRootOption = Annotated[
    list[Path] | None,
    typer.Option("--allow-root", help="Only read media under these folders (default: $CLEARANCE_ALLOWED_ROOTS)."),
]
PROMPT_FIELDS = {"id", "prompt", "negative_prompt"}


def screener(home: str | None, database_url: str | None, allow_root: list[Path] | None = None) -> Screener:
    roots = allow_root or [Path(p) for p in os.environ.get("CLEARANCE_ALLOWED_ROOTS", "").split(os.pathsep) if p]
    opened = Screener(open_home(home, database_url), allowed_roots=roots or None)
    warn_if_empty(opened.registry, opened.home)
    return opened


def print_table(verdicts: list[Verdict], title: str) -> None:
    """A readable summary: one row per verdict with its strongest match."""
    table = Table(title=title, show_lines=False)
    table.add_column("item", max_width=48, overflow="ellipsis", no_wrap=True)
    table.add_column("action")
    table.add_column("score", justify="right")
    table.add_column("work / element (signal)", max_width=44, overflow="fold")
    table.add_column("evidence", max_width=60, overflow="ellipsis", no_wrap=True)
    for v in verdicts:
        top = v.matches[0] if v.matches else None
        where = f"{top.work_id}{' / ' + top.element if top.element else ''} ({top.signal})" if top else ""
        table.add_row(shown(v.id or v.path or ""), f"[{COLOUR[v.action]}]{v.action.value}[/]", f"{v.score:.2f}",
                      shown(where), shown(v.error or (top.evidence if top else "")))
    console.print(table)


COLOUR = {Action.ALLOW: "green", Action.REVIEW: "yellow", Action.BLOCK: "red"}


def print_summary(counts: Counter[Action], out: Path) -> None:
    """What a batch written to OUT came to: a line per action, not a table of every verdict, so a
    batch of millions holds no verdicts in memory and floods no terminal."""
    table = Table(title=f"verdicts written to {shown(str(out))}")
    table.add_column("action")
    table.add_column("verdicts", justify="right")
    for action in (Action.BLOCK, Action.REVIEW, Action.ALLOW):
        table.add_row(f"[{COLOUR[action]}]{action.value}[/]", str(counts[action]))
    console.print(table)


def check_out(out: Path | None, inputs: list[Path]) -> None:
    """Refuse an --out that cannot be written before any screening starts (not a traceback after it),
    and one that is an input: opening it for writing would empty the input before it is read."""
    if out is None:
        return
    if out.is_dir():
        fail(f"--out {out} is a folder; give a file name")
    if not out.parent.is_dir():
        fail(f"--out {out}: folder {out.parent} does not exist")
    if out.exists() and any(_same_file(out, source) for source in inputs):
        fail(f"--out {out} is an input of this command; writing verdicts there would destroy it")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # an input that does not exist is reported as such on its own verdict
        return False


def emit(verdicts: Iterator[Verdict], out: Path | None, json_: bool, title: str) -> None:
    """Stream verdicts to OUT (JSONL) or stdout; a table when a person is reading. An OUT that
    cannot be written (no permission, a full disk) is an error of the run, said in one line; the
    verdicts already written stay in OUT and in the audit log."""
    kept: list[Verdict] = []  # for the table a person reads when there is no OUT
    counts: Counter[Action] = Counter()
    try:
        handle = out.open("w", encoding="utf-8") if out else None
    except OSError as exc:
        fail(f"--out {out}: cannot write it ({exc.strerror or exc})")
    try:
        for verdict in verdicts:
            line = json.dumps(verdict.public(), ensure_ascii=False)
            if handle:
                _write_line(handle, line, out, counts.total())
                counts[verdict.action] += 1
            elif json_:
                typer.echo(line)
            else:
                kept.append(verdict)
    finally:
        if handle:
            with contextlib.suppress(OSError):  # the write that failed has been reported already
                handle.close()
    if out is not None and not json_:
        print_summary(counts, out)
    elif kept:
        print_table(kept, title)


def _write_line(handle: TextIO, line: str, out: Path | None, written: int) -> None:
    try:
        handle.write(line + "\n")
        handle.flush()
    except OSError as exc:
        fail(f"--out {out}: writing failed after {written} verdict(s) ({exc.strerror or exc})", code=1)


@app.command("prompt")
def prompt(
    text: Annotated[str, typer.Argument(help="The generation prompt.")],
    negative: Annotated[str | None, typer.Option("--negative", help="The negative prompt (never blocks).")] = None,
    reference: Annotated[list[Path] | None, typer.Option("--reference", help="Uploaded reference media.")] = None,
    tenant: TenantOption = None,
    allow_root: AllowRootOption = None,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
    json_: JsonOption = False,
) -> None:
    """Screen one generation request (prompt plus optional reference media)."""
    verdict = screener(home, database_url, allow_root).screen_prompt(
        text, negative, tenant=tenant, references=reference or []
    )
    if json_:
        typer.echo(json.dumps(verdict.public(), ensure_ascii=False))
    else:
        print_table([verdict], "prompt verdict")
        if verdict.rewritten_prompt is not None:
            console.print(f"rewritten prompt: {shown(verdict.rewritten_prompt)}", highlight=False)
        if verdict.negative_prompt:
            console.print(f"negative prompt:  {shown(verdict.negative_prompt)}", highlight=False)


def _prompt_lines(path: Path) -> Iterator[tuple[str | None, dict[str, Any] | None, str | None]]:
    """Yield (id, record, error) per line; a bad line yields an error instead of raising. An id used
    before is screened again but warned about: two verdicts under one id cannot be told apart."""
    first_line: dict[str, int] = {}
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            fallback = f"line-{number}"
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8")  # a BOM, as editors write
                record = strict_json.loads(text)
            except UnicodeDecodeError:
                yield fallback, None, f"line {number}: not valid UTF-8"
                continue
            except json.JSONDecodeError as exc:
                yield fallback, None, f"line {number}: invalid JSON ({exc.msg})"
                continue
            except strict_json.DuplicateKeyError as exc:
                yield fallback, None, f"line {number}: {exc}"
                continue
            if not isinstance(record, dict):
                yield fallback, None, f"line {number}: expected a JSON object"
                continue
            item_id = _line_id(record.get("id"), fallback)
            if item_id is None:
                yield fallback, None, f"line {number}: field 'id' must be a string"
                continue
            if first_line.setdefault(item_id, number) != number:
                warn(f"line {number}: id {item_id!r} was used on line {first_line[item_id]} too; both are screened")
            unknown = sorted(set(record) - PROMPT_FIELDS - {"label", "work_id", "kind"})
            if not isinstance(record.get("prompt"), str):
                yield item_id, None, f"line {number}: field 'prompt' must be a string"
            elif record.get("negative_prompt") is not None and not isinstance(record["negative_prompt"], str):
                yield item_id, None, f"line {number}: field 'negative_prompt' must be a string"
            elif unknown:
                yield item_id, None, f"line {number}: unknown field(s) {', '.join(unknown)}"
            else:
                yield item_id, record, None


def _line_id(given: object, fallback: str) -> str | None:
    """The id a line's verdict echoes: a string as it is, a number as JSON writes it, none as the line
    number (``fallback``); None for anything else. ``str()`` of each echoed "None" for null and
    Python's "{'a': 1}" for an object (a QA pass, 2026-12-08)."""
    if given is None:
        return fallback
    if isinstance(given, str):
        return given
    if isinstance(given, int | float) and not isinstance(given, bool):
        return json.dumps(given)
    return None


@app.command("prompts")
def prompts(
    infile: Annotated[Path, typer.Argument(help="JSONL: {id, prompt, negative_prompt?} per line.")],
    out: Annotated[Path | None, typer.Option("--out", help="Write verdicts as JSONL here.")] = None,
    tenant: TenantOption = None,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
    json_: JsonOption = False,
) -> None:
    """Screen a JSONL batch of prompts; one verdict per line."""
    if not infile.is_file():
        fail(f"input {'is not a file' if infile.exists() else 'file not found'}: {infile}")
    check_out(out, [infile])
    requests = (PromptRequest(id=item_id, error=error or "unreadable line") if error or record is None
                else PromptRequest(record["prompt"], record.get("negative_prompt"), item_id)
                for item_id, record, error in _prompt_lines(infile))
    emit(screener(home, database_url).screen_prompts(requests, tenant=tenant), out, json_, f"verdicts for {infile}")


def listed_path(line: str, list_file: Path) -> Path:
    """A path as a list file gives it. A relative one is read from the working directory, as a
    shell's would be, and where nothing is there, from the list file's folder, the convention of
    lists written beside their data (``images/distractors.txt`` holds ``distractors/dis_000.jpg``)."""
    path = Path(line)
    if path.is_absolute() or path.exists():
        return path
    beside = list_file.parent / path
    return beside if beside.exists() else path


@app.command("media")
def media(
    paths: Annotated[list[Path] | None, typer.Argument(help="Image, video or audio files.")] = None,
    from_list: Annotated[Path | None, typer.Option("--from-list", help="File with one path per line.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write verdicts as JSONL here.")] = None,
    tenant: TenantOption = None,
    allow_root: AllowRootOption = None,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
    json_: JsonOption = False,
) -> None:
    """Screen media files (generated outputs or uploaded references)."""
    items = list(paths or [])
    if from_list is not None:
        if not from_list.is_file():
            fail(f"list file not found: {from_list}")
        lines = from_list.read_text(encoding="utf-8-sig", errors="surrogateescape").splitlines()  # names as bytes
        items += [listed_path(line.strip(), from_list) for line in lines if line.strip()]
    if not items:
        fail("give at least one PATH or --from-list FILE")
    check_out(out, items + ([from_list] if from_list else []))
    s = screener(home, database_url, allow_root)
    emit(s.screen_media_many(items, tenant=tenant), out, json_, "media verdicts")
