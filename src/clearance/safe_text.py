"""Strings that UTF-8 cannot encode, made safe before they reach a writer.

Lone surrogates (U+D800 to U+DFFF) are not characters, yet Python strings can hold them: JSON
may spell one as an escape (``"\\ud800"``), and a file name that is not UTF-8 is decoded with
``surrogateescape`` (byte 0xFF becomes U+DCFF) so that the string still opens the same file.
SQLite, PostgreSQL, Parquet, HTTP bodies and UTF-8 files all refuse them, and refusing at
that point would lose a whole batch. So each kind of text gets what it needs:

- text that is screened has them replaced by U+FFFD (``screenable``: same length, so matched
  spans still point into what the caller sent);
- names that are reported (verdict ids and paths, errors, manifest keys) spell them as
  escapes a person can read (``printable``: ``bad\\xff.jpg``);
- records that must name a file exactly (audit payloads, the sweep ledger) are JSON with
  ``\\u`` escapes (``json_text``), which reads back to the very same string.
"""

from __future__ import annotations

import json
import re
from typing import Any

SURROGATE = re.compile("[\ud800-\udfff]")


def screenable(text: str) -> tuple[str, int]:
    """``text`` with every lone surrogate replaced by U+FFFD, and how many were replaced."""
    return SURROGATE.subn("\ufffd", text)


def printable(text: str) -> str:
    """``text`` with a byte that was not UTF-8 shown as ``\\xff`` and any other lone surrogate as
    ``\\ud800``; text without them is returned as it is."""
    return SURROGATE.sub(_escape, text) if SURROGATE.search(text) else text


_UNSAFE_ON_A_TERMINAL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """``printable`` text with control characters and bidirectional overrides shown as escapes: a
    prompt or a file name printed in a table must not clear the screen, set the window's title or
    turn the text round (``"\\x1b"``, ``"\\u202e"``)."""
    return _UNSAFE_ON_A_TERMINAL.sub(_escape_code_point, printable(text))


def _escape_code_point(found: re.Match[str]) -> str:
    point = ord(found.group())
    return f"\\x{point:02x}" if point < 0x100 else f"\\u{point:04x}"


def _escape(found: re.Match[str]) -> str:
    point = ord(found.group())
    return f"\\x{point - 0xDC00:02x}" if 0xDC80 <= point <= 0xDCFF else f"\\u{point:04x}"


def json_text(value: Any, **options: Any) -> str:
    """``json.dumps`` keeping non-ASCII characters as they are, unless the value holds lone
    surrogates: then everything non-ASCII is escaped, which any JSON reader turns back into the
    same string."""
    text = json.dumps(value, ensure_ascii=False, **options)
    return json.dumps(value, ensure_ascii=True, **options) if SURROGATE.search(text) else text
