"""Read the text form of a snapshot: the page dump the snapshot crawler writes.

The text form, top to bottom (``tests/data/snapshot-zh-intl-2023-11-14.txt`` is a real one)::

    • 我的订阅                                  breadcrumbs
      • 国际
    中美缓和后,俄美要破冰?…                     title
    类别:国际 发布时间:2023-11-14 11:19:00 来源:…  meta line
    随着中美两国加强高层往来,…                 paragraphs, image slots, captions
    以上内容为资讯信息快照,由td.fyun.cc爬虫…   footer
    快照生成时间:2023-11-14 15:45:17
    本站信息快照查询为非营利公共服务,…
    信息原文地址:
    美方请柬,递到中国外交部,…                 related items: [title] [excerpt] date
    2023-08-02 18:16:00
    更多关于国际的资讯:                         more-in-category header and items

Reading rules (:func:`parse_snapshot`):

* Lines end in LF, CRLF or CR (anything :meth:`str.splitlines` splits on); a leading BOM is
  dropped. Every line is read with its surrounding whitespace removed (indentation and
  trailing spaces are layout); the text between is kept exactly. Blank lines only separate.
* **Breadcrumbs**: the leading lines starting with ``•``, in order (their indentation is
  nesting, which a path does not need); a bare ``•`` is skipped.
* **Title** (required): the first other non-blank line. It must not be a meta, footer,
  date or more-in-category line, else there is no title.
* **Meta line**: the next non-blank line, if it starts with ``类别``, ``发布时间`` or
  ``来源`` and a colon. It holds any of the three ``key:value`` fields, in any order; a
  value runs to the next key; an empty value is ``None``; a repeated key is an error.
* **Dates**, everywhere: ``2023-11-14 11:19:00``, also with ``/`` or ``.``, as
  ``2023年11月14日 11:19``, without seconds or without the time; full-width colons
  accepted. Naive times are read in ``timezone`` (default Asia/Shanghai). A date that
  does not exist (``2023-02-30``) is an error on its line.
* **Body**: every non-blank line up to the footer (or the more-in-category header) is a
  paragraph, whether paragraphs are separated by blank lines or not, except:

  - a line equal to the title is an **image slot**: ``Image.position`` is the number of
    paragraphs before it;
  - the line right after a slot is that image's **caption** when it is at most 40
    characters and does not end (closing quotes aside) with ``。！？!?….;；``.

* **Footer**: a run of footer lines, any order, each optional: ``以上内容为资讯信息快照,由X
  爬虫进行采集并收录…`` gives the crawler ``X`` (comma ``,`` or ``，``);
  ``快照生成时间:`` a date; ``本站信息快照查询为非营利公共服务…`` is recognised and dropped;
  ``信息原文地址:`` the URL, empty meaning ``None``. A repeated data line is an error.
* **Related items**, after the footer; then **more-in-category** items after
  ``更多关于X的资讯:`` (``X`` kept as ``more_in_category_name``). Items are groups of
  non-blank lines each ended by a date line: one line before the date is the excerpt
  (title ``None``), two are title and excerpt, none is a bare date. Three or more
  lines, or lines after the last date, are an error. The text has no item URLs.
* **Without a footer**, the body ends at the first date line, and the related list starts
  with the (up to two) paragraphs before it since the last image slot or caption.

A text is a snapshot when it has a title **and** either a meta line or a footer; otherwise
:class:`~newsstore._errors.SnapshotParseError` says which part is missing and where. That
is the only exception parsing raises on any text (arguments aside: an unknown time zone or
encoding name is a :class:`ValueError`, an unreadable file an :class:`OSError`). A text is
either read completely or refused: nothing is silently skipped except blank lines, bare
``•`` lines and the disclaimer.

Writing a snapshot back as text is :func:`newsstore._rendering.render_snapshot`; it shares
the prefixes below (``BULLET``, ``META_START_RE``, ``MORE_PREFIX``) with the reader.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, tzinfo
from typing import Any

from pydantic import ValidationError

from ._decoding import decode_text
from ._errors import SnapshotParseError
from ._schemas import Snapshot, check_range
from ._times import zone_of

__all__ = [
    "looks_like_snapshot",
    "parse_snapshot",
    "parse_snapshot_bytes",
    "parse_snapshot_file",
]

BULLET = "•"
_CAPTION_MAX = 40
_SENTENCE_END = frozenset("。！？!?….;；")
_CLOSERS = "”’\"')）」』】》"
_SNIFF_LINES = 60

_META_FIELDS = {"类别": "category", "发布时间": "published_at", "来源": "source"}
META_START_RE = re.compile(r"(?:类别|发布时间|来源)\s*[:：]")
_META_FIELD_RE = re.compile(r"(类别|发布时间|来源)\s*[:：]")

# [0-9], not \d: \d accepts every script's digits, which no crawler writes.
_DATETIME_RE = re.compile(
    r"(?P<y>[0-9]{4})"
    r"(?:(?P<sep>[-/.])(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})"
    r"|年(?P<cm>[0-9]{1,2})月(?P<cd>[0-9]{1,2})日)"
    r"(?:\s*T?\s*(?P<H>[0-9]{1,2})[:：](?P<M>[0-9]{1,2})(?:[:：](?P<S>[0-9]{1,2}))?)?"
)

_CRAWLER_PREFIX = "以上内容为资讯信息快照"
_SNAPSHOT_AT_PREFIX = "快照生成时间"
_DISCLAIMER_PREFIX = "本站信息快照查询为非营利公共服务"
_URL_PREFIX = "信息原文地址"
_FOOTER_PREFIXES = (_CRAWLER_PREFIX, _SNAPSHOT_AT_PREFIX, _DISCLAIMER_PREFIX, _URL_PREFIX)
_CRAWLER_RE = re.compile(r"以上内容为资讯信息快照\s*[,，]\s*由\s*(.*?)\s*爬虫进行采集并收录")
_SNAPSHOT_AT_RE = re.compile(r"快照生成时间\s*[:：]\s*(.*)")
_URL_RE = re.compile(r"信息原文地址\s*[:：]\s*(.*)")

MORE_PREFIX = "更多关于"
_MORE_RE = re.compile(r"更多关于(.*)的资讯\s*[:：]")

_Lines = list[str]


# --- public API -----------------------------------------------------------------------


def looks_like_snapshot(text: str) -> bool:
    """Whether ``text`` has a meta line or the ``快照生成时间`` footer in its first 60 lines.

    Cheap (it reads only those lines), for telling snapshot text from other import formats.
    """
    for line in text.removeprefix("\ufeff").split("\n", _SNIFF_LINES)[:_SNIFF_LINES]:
        line = line.strip()
        if META_START_RE.match(line) or _SNAPSHOT_AT_RE.match(line):
            return True
    return False


def parse_snapshot(
    text: str, *, source: str | None = None, timezone: str | tzinfo | None = None
) -> Snapshot:
    """Read a snapshot's text form (see the module docstring for the rules).

    ``source`` names the text in error messages; ``timezone`` (a zone name or ``tzinfo``)
    is the zone of its times, Asia/Shanghai by default.

    :raises SnapshotParseError: the text is not a complete snapshot.
    :raises ValueError: ``timezone`` names no known zone.
    """
    return read_snapshot(text, source=source, timezone=timezone)[0]


def read_snapshot(
    text: str, *, source: str | None = None, timezone: str | tzinfo | None = None
) -> tuple[Snapshot, SnapshotParseError | None]:
    """:func:`parse_snapshot`, and a warning when the text has no footer: a snapshot cut
    short (at a line or character boundary) reads as one without it, so it may be one."""
    zone = zone_of(timezone)
    try:
        data, has_footer = _parse(text, zone)
        try:
            snapshot = Snapshot.model_validate(data, context={"timezone": zone})
        except ValidationError as exc:  # e.g. lone surrogates; the parser builds the rest
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            line = _line_of(text, first["input"])
            raise SnapshotParseError(f"invalid {where}: {first['msg']}", line=line) from None
    except SnapshotParseError as exc:
        if source is None:
            raise
        raise SnapshotParseError(exc.reason, line=exc.line, source=source) from None
    warning = None
    if not has_footer:
        warning = SnapshotParseError(
            "no footer (以上内容为资讯信息快照…/快照生成时间:/信息原文地址:): the text may be"
            " cut short; read as it is",
            line=len(text.splitlines()),
            source=source,
        )
    return snapshot, warning


def _line_of(text: str, value: Any) -> int | None:
    """The line holding a string value the parser took from the text, if it is there."""
    at = text.find(value) if isinstance(value, str) and value else -1
    return None if at == -1 else len((text[:at] + "x").splitlines())


def parse_snapshot_bytes(
    data: bytes,
    *,
    encoding: str | None = None,
    source: str | None = None,
    timezone: str | tzinfo | None = None,
) -> Snapshot:
    """Decode and read a snapshot.

    Without ``encoding``: drop a UTF-8 BOM, try UTF-8, then GB18030 (the crawler's other
    output encoding). An explicit ``encoding`` that does not decode the bytes is a
    :class:`SnapshotParseError` naming it; so is text that looks like another encoding
    than the one asked for (a UTF-16 BOM or NUL bytes when none was: see
    :mod:`newsstore._decoding`).
    """
    text = decode_text(data, encoding, source)
    return parse_snapshot(text, source=source, timezone=timezone)


def parse_snapshot_file(
    path: str | os.PathLike[str],
    *,
    encoding: str | None = None,
    timezone: str | tzinfo | None = None,
) -> Snapshot:
    """Read a snapshot file, decoded as :func:`parse_snapshot_bytes` does; errors name the path.

    :raises OSError: the file cannot be read.
    """
    with open(path, "rb") as fh:
        data = fh.read()
    return parse_snapshot_bytes(data, encoding=encoding, source=os.fspath(path), timezone=timezone)


# --- reading --------------------------------------------------------------------------


def _parse(text: str, zone: tzinfo) -> tuple[dict[str, Any], bool]:
    """The snapshot's fields as a dict for validation (times already aware), and whether
    the text has a footer."""
    lines = [line.strip() for line in text.removeprefix("\ufeff").splitlines()]
    breadcrumbs, i = _read_breadcrumbs(lines)
    title, i = _read_title(lines, i)
    meta, i = _read_meta(lines, i + 1, zone)
    body_end, has_footer = _find_body_end(lines, i)
    if meta is None and not has_footer:
        expected = _next_nonblank(lines, i)
        raise SnapshotParseError(
            f"not a snapshot: no meta line (类别:/发布时间:/来源:) after the title on line "
            f"{i} and no footer (以上内容为资讯信息快照…/快照生成时间:/信息原文地址:) after it",
            line=min(expected, len(lines) - 1) + 1,
        )
    paragraphs, images, i = _read_body(lines, i, body_end, title, has_footer)
    footer, i = _read_footer(lines, i, zone)
    related, i = _read_items(lines, i, zone, "related item", stop_at_more=True)
    more_name: str | None = None
    more: list[dict[str, Any]] = []
    if i < len(lines):  # _read_items stopped at the more-in-category header
        header = _MORE_RE.fullmatch(lines[i])
        more_name = (header.group(1).strip() or None) if header else None
        more, i = _read_items(lines, i + 1, zone, "more-in-category item", stop_at_more=False)
    data = {
        "title": title,
        **(meta or {}),
        "breadcrumbs": breadcrumbs,
        "paragraphs": paragraphs,
        "images": images,
        **footer,
        "related": related,
        "more_in_category_name": more_name,
        "more_in_category": more,
    }
    return data, has_footer


def _next_nonblank(lines: _Lines, i: int) -> int:
    while i < len(lines) and not lines[i]:
        i += 1
    return i


def _read_breadcrumbs(lines: _Lines) -> tuple[list[str], int]:
    """The leading bullet lines and the index of the first other non-blank line."""
    crumbs: list[str] = []
    i = _next_nonblank(lines, 0)
    while i < len(lines) and lines[i].startswith(BULLET):
        crumb = lines[i][1:].strip()
        if crumb:
            crumbs.append(crumb)
        i = _next_nonblank(lines, i + 1)
    return crumbs, i


def _read_title(lines: _Lines, i: int) -> tuple[str, int]:
    if i >= len(lines):
        where = "after the breadcrumbs" if any(lines) else "(the text is blank)"
        raise SnapshotParseError(f"no title {where}", line=max(len(lines), 1))
    line = lines[i]
    kind = _special_kind(line)
    if kind is not None:
        raise SnapshotParseError(f"no title: found {kind} where the title should be", line=i + 1)
    return line, i


def _special_kind(line: str) -> str | None:
    """What a line is when it cannot be a title: meta, footer, date or header."""
    if META_START_RE.match(line):
        return "the meta line"
    if _footer_kind(line) is not None:
        return "a footer line"
    if line.startswith(MORE_PREFIX) and _MORE_RE.fullmatch(line):
        return "the more-in-category header"
    if _DATETIME_RE.fullmatch(line):
        return "a date line"
    return None


def _read_meta(lines: _Lines, i: int, zone: tzinfo) -> tuple[dict[str, Any] | None, int]:
    """The meta line's fields if the next non-blank line is one, and where the body starts."""
    j = _next_nonblank(lines, i)
    if j >= len(lines) or not META_START_RE.match(lines[j]):
        return None, i
    line = lines[j]
    matches = list(_META_FIELD_RE.finditer(line))
    fields: dict[str, Any] = {}
    for k, match in enumerate(matches):
        end = matches[k + 1].start() if k + 1 < len(matches) else len(line)
        name = _META_FIELDS[match.group(1)]
        if name in fields:
            raise SnapshotParseError(f"{match.group(1)} twice in the meta line", line=j + 1)
        fields[name] = line[match.end() : end].strip() or None
    if fields.get("published_at") is not None:
        fields["published_at"] = _parse_datetime(fields["published_at"], j, zone, "发布时间")
    return fields, j + 1


def _parse_datetime(value: str, index: int, zone: tzinfo, what: str) -> datetime:
    match = _DATETIME_RE.fullmatch(value)
    if match is None:
        raise SnapshotParseError(f"{what} is not a date: {value!r}", line=index + 1)
    return _to_datetime(match, index, zone)


def _to_datetime(match: re.Match[str], index: int, zone: tzinfo) -> datetime:
    # One groups() call, not six group() calls: this runs for every item of every page.
    year, _, month, day, cn_month, cn_day, hour, minute, second = match.groups()
    try:
        value = datetime(
            int(year),
            int(month or cn_month),
            int(day or cn_day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=zone,
        )
    except ValueError as exc:
        raise SnapshotParseError(
            f"impossible date {match.group()!r}: {exc}", line=index + 1
        ) from None
    if value.year in (1, 9999):  # checked here, where the line is known (as validation does)
        try:
            check_range(value)
        except ValueError as exc:
            raise SnapshotParseError(f"{match.group()!r}: {exc}", line=index + 1) from None
    return value


def _footer_kind(line: str) -> tuple[str, str | None] | None:
    """``(field, raw value)`` for a footer line (``disclaimer`` has none), else ``None``."""
    if not line.startswith(_FOOTER_PREFIXES):  # one C-level test for the common case
        return None
    if line.startswith(_CRAWLER_PREFIX):
        crawler = _CRAWLER_RE.match(line)
        return "crawler", (crawler.group(1) or None) if crawler else None
    if line.startswith(_DISCLAIMER_PREFIX):
        return "disclaimer", None
    match = _SNAPSHOT_AT_RE.match(line) or _URL_RE.match(line)
    if match is None:  # e.g. "信息原文地址不详": prose that starts like a footer
        return None
    field = "snapshot_at" if line.startswith(_SNAPSHOT_AT_PREFIX) else "url"
    return field, match.group(1).strip() or None


def _find_body_end(lines: _Lines, i: int) -> tuple[int, bool]:
    """Where the body ends (first footer line or more header), and whether a footer does."""
    for j in range(i, len(lines)):
        line = lines[j]
        if line.startswith(_FOOTER_PREFIXES) and _footer_kind(line) is not None:
            return j, True
        if line.startswith(MORE_PREFIX) and _MORE_RE.fullmatch(line):
            return j, False
    return len(lines), False


def _is_caption(line: str) -> bool:
    if len(line) > _CAPTION_MAX:
        return False
    # "…说。”" ends a sentence too: look past closing quotes and brackets.
    bare = line.rstrip(_CLOSERS)
    return not bare or bare[-1] not in _SENTENCE_END


def _read_body(
    lines: _Lines, i: int, end: int, title: str, has_footer: bool
) -> tuple[list[str], list[dict[str, Any]], int]:
    """Paragraphs, images and where the body stopped (``end`` or where related items start)."""
    paragraphs: list[str] = []
    para_index: list[int] = []
    images: list[dict[str, Any]] = []
    after_slot = False
    tail = 0  # paragraphs since the last slot or caption: what a footerless related list may take
    for j in range(i, end):
        line = lines[j]
        if not line:
            continue
        if line == title:
            images.append({"position": len(paragraphs), "caption": None})
            after_slot, tail = True, 0
        elif not has_footer and _DATETIME_RE.fullmatch(line):
            # No footer: this date ends the first related item, which began up to two lines up.
            take = min(tail, 2)
            start = para_index[-take] if take else j
            return paragraphs[: len(paragraphs) - take], images, start
        elif after_slot and _is_caption(line):
            images[-1]["caption"] = line
            after_slot = False
        else:
            paragraphs.append(line)
            para_index.append(j)
            after_slot, tail = False, tail + 1
    return paragraphs, images, end


def _read_footer(lines: _Lines, i: int, zone: tzinfo) -> tuple[dict[str, Any], int]:
    """The footer's fields (none if there is no footer at ``i``) and the index after it."""
    fields: dict[str, Any] = {}
    n = len(lines)
    while i < n:
        line = lines[i]
        if line:
            entry = _footer_kind(line)
            if entry is None:
                break
            field, value = entry
            if field != "disclaimer":
                if field in fields:
                    raise SnapshotParseError(f"a second {field} footer line", line=i + 1)
                if field == "snapshot_at" and value is not None:
                    fields[field] = _parse_datetime(value, i, zone, "快照生成时间")
                else:
                    fields[field] = value
        i += 1
    return fields, i


def _read_items(
    lines: _Lines, i: int, zone: tzinfo, what: str, *, stop_at_more: bool
) -> tuple[list[dict[str, Any]], int]:
    """Items (groups of lines each ended by a date line) from ``i`` to the end or a more header."""
    items: list[dict[str, Any]] = []
    pending: list[int] = []
    n = len(lines)
    while i < n:
        line = lines[i]
        if line:
            if stop_at_more and line.startswith(MORE_PREFIX) and _MORE_RE.fullmatch(line):
                break
            match = _DATETIME_RE.fullmatch(line)
            if match is None:
                pending.append(i)
            else:
                if len(pending) > 2:
                    raise SnapshotParseError(
                        f"{what} has {len(pending)} lines before its date on line {i + 1}; "
                        "expected at most a title and an excerpt",
                        line=pending[0] + 1,
                    )
                items.append(
                    {
                        "title": lines[pending[0]] if len(pending) == 2 else None,
                        "excerpt": lines[pending[-1]] if pending else None,
                        "published_at": _to_datetime(match, i, zone),
                    }
                )
                pending.clear()
        i += 1
    if pending:
        raise SnapshotParseError(f"{what} without a date line", line=pending[0] + 1)
    return items, i
