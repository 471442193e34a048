"""Parse and validate a registry YAML file (CONTRACT.md, ``version: 1``).

Validation walks the YAML node tree rather than plain Python values so that every error can
name the file, line and field: a rights holder with a 5,000-work catalogue must be able to
find the one bad entry. Nothing is written until the whole file validates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from clearance.db.tables import NAME_CHARS, OWNER_CHARS, TITLE_CHARS
from clearance.folders import not_a_file
from clearance.keys import UNCLEAR, party_name, shown_plainly, unclear
from clearance.text.normalize import shows_nothing

KINDS = ("film", "series", "game", "book", "character", "other")
POLICIES = ("block", "review", "allow")
MEDIA_KINDS = ("image", "video", "audio")
SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,199}$")
NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
"""Control characters (tab and line breaks aside) and lone surrogates: PostgreSQL refuses NUL in
text, and no database encodes a surrogate."""
MAX_TEXT = 2000


class RegistryFileError(ValueError):
    """A malformed registry file; the message is ``file:line: field: problem``."""


@dataclass
class ElementSpec:
    role: str  # character | element
    name: str
    aliases: list[str] = field(default_factory=list)
    description: str = ""


@dataclass
class ReferenceSpec:
    path: Path
    kind: str
    element: str | None = None


@dataclass
class WorkSpec:
    slug: str
    title: str
    owner: str
    kind: str
    policy: str
    aliases: list[str] = field(default_factory=list)
    elements: list[ElementSpec] = field(default_factory=list)
    descriptions: list[str] = field(default_factory=list)
    references: list[ReferenceSpec] = field(default_factory=list)
    references_given: bool = False
    """The document has a ``references`` key (``references: []`` too): without one, a registered
    work keeps the media it has (``Registry.import_specs``)."""


class _AliasFound(Exception):
    """An alias met while composing, with its position (turned into a ``RegistryFileError``)."""

    def __init__(self, mark: yaml.Mark, name: str) -> None:
        super().__init__(name)
        self.mark, self.name = mark, name


class _NoAliasComposer(yaml.SafeLoader):
    """Builds the node tree, stopping at the first alias (``*name``).

    An alias repeats its anchor's whole node without costing the file a byte: 49,999 ``- *s`` of
    one 2,000-character description made a 552 KB file a 103 MB registry whose next screen took
    50 s. A registry has no use for them, so they are refused, with the alias's own line (after
    composing, an alias is only a second reference to its anchor's node, without a position).
    Anchors alone repeat nothing and are let be.
    """

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _AliasFound(event.start_mark, event.anchor)
        return super().compose_node(parent, index)


def _compose(text: str, source: str) -> yaml.Node | None:
    """The document's node tree; invalid YAML and aliases are ``RegistryFileError``s with their line."""
    loader = _NoAliasComposer(text)
    try:
        return loader.get_single_node()
    except _AliasFound as alias:
        raise RegistryFileError(f"{source}:{alias.mark.line + 1}: (document): YAML aliases are not allowed "
                                f"(*{alias.name}): write the value out") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise RegistryFileError(f"{source}:{line}: (document): not valid YAML: {exc}") from None
    finally:
        loader.dispose()


class _Reader:
    """Turns YAML nodes into values, raising errors that carry the node's position."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.media_problems: dict[tuple[Path, str], str | None] = {}
        """Each reference file is decoded once per kind, however many works name it."""

    def fail(self, node: yaml.Node, where: str, problem: str) -> RegistryFileError:
        return RegistryFileError(f"{self.source}:{node.start_mark.line + 1}: {where}: {problem}")

    def mapping(self, node: yaml.Node, where: str, allowed: set[str]) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, where, "expected a mapping")
        out: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if key not in allowed:
                raise self.fail(key_node, f"{where}.{key}", f"unknown field (allowed: {', '.join(sorted(allowed))})")
            if key in out:
                raise self.fail(key_node, f"{where}.{key}", "duplicate field")
            out[key] = value_node
        return out

    def text(self, node: yaml.Node, where: str, *, choices: tuple[str, ...] = (), most: int = MAX_TEXT) -> str:
        """A string of at most ``most`` characters (the column's length where it has one: PostgreSQL
        refused a longer title with a traceback). One of only invisible characters is empty: a
        title of a zero-width space was imported and never matched (a QA pass, 2026-12-08)."""
        if not isinstance(node, yaml.ScalarNode) or node.tag.endswith(":null"):
            raise self.fail(node, where, "expected a string")
        value = str(node.value).strip()
        if shows_nothing(value):
            raise self.fail(node, where, "must not be empty")
        if len(value) > most:
            raise self.fail(node, where, f"longer than {most} characters")
        if NOT_TEXT.search(value):
            raise self.fail(node, where, "holds a control character or a lone surrogate (YAML escapes such as "
                                         "\\0 or \\ud800), which no database stores as text")
        if choices and value not in choices:
            raise self.fail(node, where, f"must be one of {', '.join(choices)}, not {value!r}")
        return value

    def texts(self, node: yaml.Node, where: str) -> list[str]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, where, "expected a list")
        return [self.text(item, f"{where}[{i}]") for i, item in enumerate(node.value)]

    def items(self, node: yaml.Node, where: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, where, "expected a list")
        return list(node.value)

    def required(self, fields: dict[str, yaml.Node], parent: yaml.Node, where: str, key: str) -> yaml.Node:
        if key not in fields:
            raise self.fail(parent, f"{where}.{key}", "required field is missing")
        return fields[key]


WORK_FIELDS = {"id", "title", "owner", "kind", "policy", "aliases", "characters", "elements", "descriptions",
               "references"}


def parse_registry(text: str, source: str, base_dir: Path | None) -> list[WorkSpec]:
    """Validate a whole registry document; raises ``RegistryFileError`` on the first problem.
    Reference paths resolve from ``base_dir``; a document without one (an HTTP request body) may
    have no ``references``, which are refused before any path is looked at: the server's files
    are not the caller's to name, and even "file not found" would say what exists there."""
    reader = _Reader(source)
    root = _compose(text, source)
    if root is None:
        raise RegistryFileError(f"{source}:1: (document): the file is empty")
    top = reader.mapping(root, "(document)", {"version", "works"})
    version = reader.text(reader.required(top, root, "(document)", "version"), "version")
    if version != "1":
        raise reader.fail(top["version"], "version", f"unsupported version {version!r} (expected 1)")
    works: list[WorkSpec] = []
    seen: set[tuple[str, str]] = set()
    for i, node in enumerate(reader.items(reader.required(top, root, "(document)", "works"), "works")):
        work = _parse_work(reader, node, f"works[{i}]", base_dir)
        key = (work.owner, work.slug)
        if key in seen:
            raise reader.fail(node, f"works[{i}].id", f"duplicate work {work.slug!r} for owner {work.owner!r}")
        seen.add(key)
        works.append(work)
    return works


def _parse_work(reader: _Reader, node: yaml.Node, where: str, base_dir: Path | None) -> WorkSpec:
    f = reader.mapping(node, where, WORK_FIELDS)
    slug = reader.text(reader.required(f, node, where, "id"), f"{where}.id")
    if not SLUG.match(slug):
        raise reader.fail(f["id"], f"{where}.id", f"{slug!r} is not a slug (lower-case letters, digits, . _ -)")
    work = WorkSpec(
        slug=slug,
        title=reader.text(reader.required(f, node, where, "title"), f"{where}.title", most=TITLE_CHARS),
        owner=_owner(reader, reader.required(f, node, where, "owner"), f"{where}.owner"),
        kind=reader.text(f["kind"], f"{where}.kind", choices=KINDS) if "kind" in f else "other",
        policy=reader.text(f["policy"], f"{where}.policy", choices=POLICIES) if "policy" in f else "block",
    )
    if "aliases" in f:
        work.aliases = reader.texts(f["aliases"], f"{where}.aliases")
    if "descriptions" in f:
        work.descriptions = reader.texts(f["descriptions"], f"{where}.descriptions")
    for role, key in (("character", "characters"), ("element", "elements")):
        for j, item in enumerate(reader.items(f[key], f"{where}.{key}") if key in f else []):
            work.elements.append(_parse_element(reader, item, f"{where}.{key}[{j}]", role))
    names = {e.name for e in work.elements}
    if base_dir is None and "references" in f:
        raise reader.fail(f["references"], f"{where}.references",
                          "reference media cannot be imported over the API; use `clearance registry import`")
    for j, item in enumerate(reader.items(f["references"], f"{where}.references") if "references" in f else []):
        work.references.append(_parse_reference(reader, item, f"{where}.references[{j}]", base_dir, names))
    work.references_given = "references" in f
    return work


def _owner(reader: _Reader, node: yaml.Node, where: str) -> str:
    """The owner, in Unicode's composed form (NFC) and with no invisible characters: an owner is an
    identity (a rights holder's tenant), and "Amélie Films" written with a combining accent or a
    zero-width space made three owners that look the same, each with its own work of one id; so
    are names with spaces a reader cannot tell apart (``keys.unclear``, as for tenants)."""
    owner = party_name(reader.text(node, where, most=OWNER_CHARS))
    if unclear(owner):
        raise reader.fail(node, where, f"{UNCLEAR}: '{shown_plainly(owner)}'")
    return owner


def _parse_element(reader: _Reader, node: yaml.Node, where: str, role: str) -> ElementSpec:
    f = reader.mapping(node, where, {"name", "aliases", "description"})
    return ElementSpec(
        role=role,
        name=reader.text(reader.required(f, node, where, "name"), f"{where}.name", most=NAME_CHARS),
        aliases=reader.texts(f["aliases"], f"{where}.aliases") if "aliases" in f else [],
        description=reader.text(f["description"], f"{where}.description") if "description" in f else "",
    )


def _parse_reference(
    reader: _Reader, node: yaml.Node, where: str, base_dir: Path, element_names: set[str]
) -> ReferenceSpec:
    f = reader.mapping(node, where, {"path", "kind", "element"})
    raw = reader.text(reader.required(f, node, where, "path"), f"{where}.path")
    path = (base_dir / raw).resolve()
    if not path.is_file():
        raise reader.fail(f["path"], f"{where}.path", not_a_file(path))
    element = reader.text(f["element"], f"{where}.element") if "element" in f else None
    if element is not None and element not in element_names:
        raise reader.fail(f["element"], f"{where}.element", f"{element!r} is not a character or element of this work")
    kind = reader.text(reader.required(f, node, where, "kind"), f"{where}.kind", choices=MEDIA_KINDS)
    problem = _media_problem(reader, path, kind)
    if problem is not None:
        raise reader.fail(f["path"], f"{where}.path", f"{raw}: {problem}")
    return ReferenceSpec(path=path, kind=kind, element=element)


def _media_problem(reader: _Reader, path: Path, kind: str) -> str | None:
    """Whether the file decodes as ``kind`` (``registry.media_check``), asked once per file and kind."""
    from clearance.registry.media_check import media_problem  # decoders: only files with references need them

    key = (path, kind)
    if key not in reader.media_problems:
        reader.media_problems[key] = media_problem(path, kind)
    return reader.media_problems[key]


def decode_utf8(data: bytes, source: str) -> str:
    """The document as text; bytes that are not UTF-8 are refused on the line that holds them."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RegistryFileError(f"{source}:{line}: (document): not UTF-8 text ({exc.reason})") from None


def load_registry_file(path: Path) -> list[WorkSpec]:
    """Read and validate a registry file from disk (paths resolve relative to it)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RegistryFileError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise RegistryFileError(f"{path}: is a directory, not a registry file") from None
    except OSError as exc:
        raise RegistryFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return parse_registry(decode_utf8(data, str(path)), str(path), path.parent.resolve())
