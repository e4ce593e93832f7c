"""Write the text form of a snapshot: :func:`render_snapshot`, the inverse of parsing.

The layout and the reading rules are in :mod:`newsstore._parsing`. Writing produces the
canonical layout of the sample: times in ``timezone`` (default Asia/Shanghai) as
``YYYY-MM-DD HH:MM:SS``, meta fields in the order 类别, 发布时间, 来源 separated by no-break
spaces, blank lines around body and footer lines, and always a footer (the disclaimer and
``信息原文地址:`` line at least), so the body ends where it should.
``parse_snapshot(render_snapshot(s))`` equals ``s`` (``stored`` aside) for every snapshot
the parser produced. What the text cannot hold is lost: ``stored``, item URLs, sub-second
times, an item's title without an excerpt (written as the excerpt).
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from ._parsing import BULLET, META_START_RE, MORE_PREFIX
from ._schemas import Image, RelatedItem, Snapshot
from ._times import zone_of

__all__ = ["render_snapshot"]

_CRAWLER_LINE = (
    "以上内容为资讯信息快照,由{}爬虫进行采集并收录,本站未对信息做任何修改,信息内容不代表本站立场。"
)
_DISCLAIMER_LINE = "本站信息快照查询为非营利公共服务,如有侵权请联系我们进行删除。"
_META_SEPARATOR = "\xa0"  # what the crawler writes between meta fields

_Lines = list[str]


def render_snapshot(snapshot: Snapshot, *, timezone: str | tzinfo | None = None) -> str:
    """Write a snapshot's text form, the inverse of :func:`~newsstore._parsing.parse_snapshot`.

    Times are written in ``timezone`` (Asia/Shanghai by default), the zone to parse in.
    """
    zone = zone_of(timezone)
    out: _Lines = [
        f"{'  ' * depth}{BULLET} {crumb}" for depth, crumb in enumerate(snapshot.breadcrumbs)
    ]
    if out:
        out.append("")
    out += [snapshot.title, ""]
    body = _render_body(snapshot.title, snapshot.paragraphs, snapshot.images)
    meta = _render_meta(snapshot, zone)
    if not meta and body and META_START_RE.match(body[0]):
        meta = "类别:"  # an empty field, so the first paragraph is not read as the meta line
    if meta:
        out += [meta, ""]
    out += body
    out += _render_footer(snapshot, zone)
    for item in snapshot.related:
        out += _render_item(item, zone)
    if snapshot.more_in_category_name is not None or snapshot.more_in_category:
        out.append(f"{MORE_PREFIX}{snapshot.more_in_category_name or ''}的资讯:")
        for item in snapshot.more_in_category:
            out += _render_item(item, zone)
    return "\n".join(out).rstrip("\n") + "\n"


def _format_datetime(value: datetime, zone: tzinfo) -> str:
    # astimezone() returns the value itself when it is already in ``zone``: wall time kept.
    t = value.astimezone(zone) if value.tzinfo is not None else value
    # f-string, not strftime: %Y does not zero-pad years before 1000 on every platform.
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}:{t.second:02d}"


def _render_meta(snapshot: Snapshot, zone: tzinfo) -> str:
    fields = []
    if snapshot.category is not None:
        fields.append(f"类别:{snapshot.category}")
    if snapshot.published_at is not None:
        fields.append(f"发布时间:{_format_datetime(snapshot.published_at, zone)}")
    if snapshot.source is not None:
        fields.append(f"来源:{snapshot.source}")
    return _META_SEPARATOR.join(fields)


def _render_body(title: str, paragraphs: list[str], images: list[Image]) -> _Lines:
    last = len(paragraphs)
    slots: dict[int, list[Image]] = {}
    for image in images:  # in list order, so slots at one position keep their order
        slots.setdefault(min(image.position, last), []).append(image)
    out: _Lines = []
    for position in range(last + 1):
        for image in slots.get(position, ()):
            out += [title, ""]
            if image.caption:
                out += [image.caption, ""]
        if position < last:
            out += [paragraphs[position], ""]
    return out


def _render_footer(snapshot: Snapshot, zone: tzinfo) -> _Lines:
    out: _Lines = []
    if snapshot.crawler is not None:
        out += [_CRAWLER_LINE.format(snapshot.crawler), ""]
    if snapshot.snapshot_at is not None:
        out += [f"快照生成时间:{_format_datetime(snapshot.snapshot_at, zone)}", ""]
    # Always written, so a rendered snapshot always has a footer to end its body.
    out += [_DISCLAIMER_LINE, "", f"信息原文地址:{snapshot.url or ''}", ""]
    return out


def _render_item(item: RelatedItem, zone: tzinfo) -> _Lines:
    # One line before the date reads back as the excerpt, so a lone title is written as one.
    if item.title and item.excerpt:
        texts = [item.title, item.excerpt]
    else:
        texts = [t for t in (item.excerpt or item.title,) if t]
    return [*texts, _format_datetime(item.published_at, zone)]
