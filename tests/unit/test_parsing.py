"""_parsing and _rendering: the sample field by field, variants, refusals, round trips."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from newsstore._errors import SnapshotParseError
from newsstore._parsing import (
    looks_like_snapshot,
    parse_snapshot,
    parse_snapshot_bytes,
    parse_snapshot_file,
)
from newsstore._rendering import render_snapshot
from newsstore._schemas import Image, RelatedItem, Snapshot, StoredInfo

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_PATH = ROOT / "tests" / "data" / "snapshot-zh-intl-2023-11-14.txt"
SAMPLE = SAMPLE_PATH.read_text(encoding="utf-8")
SAMPLE_LINES = SAMPLE.split("\n")
BEIJING = ZoneInfo("Asia/Shanghai")
TITLE = "中美缓和后,俄美要破冰?普京接过华盛顿请柬,西方或抛弃泽连斯基"


def bj(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=BEIJING)


@pytest.fixture(scope="module")
def sample() -> Snapshot:
    return parse_snapshot(SAMPLE)


# --- the sample, field by field ---------------------------------------------------------


def test_sample_header(sample: Snapshot) -> None:
    assert sample.breadcrumbs == ["我的订阅", "国际"]
    assert sample.title == TITLE
    assert sample.category == "国际"
    assert sample.published_at == bj(2023, 11, 14, 11, 19, 0)
    assert sample.published_at is not None
    assert sample.published_at.utcoffset() == timedelta(hours=8)
    assert sample.source == "河南广播电视台"


def test_sample_body(sample: Snapshot) -> None:
    assert len(sample.paragraphs) == 15
    assert sample.paragraphs[0].startswith("随着中美两国加强高层往来,俄罗斯与美国也出现了")
    assert sample.paragraphs[0].endswith("加强俄美对话十分有必要。")
    assert sample.paragraphs[2] == SAMPLE_LINES[15]  # kept exactly, full-width quotes and all
    assert (
        sample.paragraphs[-1]
        == "但西方国家很可能会支持扎卢日内等愿意与俄罗斯和谈的政客上台,为俄乌谈判做准备。"
    )
    assert TITLE not in sample.paragraphs
    assert "奥维尔丘克" not in sample.paragraphs
    paragraph_lines = [8, 10, 16, 18, 22, 24, 30, 32, 36, 38, 42, 46, 48, 52, 54]
    assert sample.paragraphs == [SAMPLE_LINES[n - 1] for n in paragraph_lines]
    assert sample.images == [
        Image(position=2, caption="奥维尔丘克"),
        Image(position=4),
        Image(position=6, caption="乌克兰武装部队总司令扎卢日内"),
        Image(position=8),
        Image(position=10),
        Image(position=11),
        Image(position=13),
    ]


def test_sample_footer(sample: Snapshot) -> None:
    assert sample.crawler == "td.fyun.cc"
    assert sample.snapshot_at == bj(2023, 11, 14, 15, 45, 17)
    assert sample.url is None
    assert sample.stored is None


def test_sample_related(sample: Snapshot) -> None:
    assert len(sample.related) == 9
    assert sample.related[0] == RelatedItem(
        title="美方请柬,递到中国外交部,布林肯已做好准备,在华盛顿接待王毅",
        excerpt=SAMPLE_LINES[64],
        published_at=bj(2023, 8, 2, 18, 16),
    )
    assert sample.related[0].excerpt is not None
    assert sample.related[0].excerpt.startswith("...确定这份请柬")  # the "..." is kept
    assert sample.related[5].excerpt == SAMPLE_LINES[79]  # one that starts 来源: stays text
    assert sample.related[-1] == RelatedItem(
        title="持续追踪|泽连斯基访美获“爱国者”,俄罗斯将扩军",
        excerpt=SAMPLE_LINES[88],
        published_at=bj(2022, 12, 22, 20, 2),
    )
    assert all(item.title and item.excerpt and item.url is None for item in sample.related)
    assert [item.published_at.year for item in sample.related] == [
        2023, 2023, 2022, 2024, 2024, 2022, 2023, 2024, 2022,
    ]  # fmt: skip


def test_sample_more_in_category(sample: Snapshot) -> None:
    more = sample.more_in_category
    assert sample.more_in_category_name == "国际"
    assert len(more) == 13  # 13 date lines follow 更多关于国际的资讯: in the sample
    assert more[0] == RelatedItem(excerpt=SAMPLE_LINES[91], published_at=bj(2025, 10, 4, 2, 11))
    assert more[3] == RelatedItem(
        title="中华美国侨社庆国庆贺中秋暨新职员就职联欢晚会在纽约举办",
        excerpt=SAMPLE_LINES[98],
        published_at=bj(2025, 10, 2, 20, 4),
    )
    assert more[-1] == RelatedItem(
        title="长图丨田间的对话", excerpt="编辑:陈梦伊", published_at=bj(2025, 9, 29, 19, 17)
    )
    assert [i for i, item in enumerate(more) if item.title is not None] == [3, 10, 12]


def test_render_reproduces_the_sample(sample: Snapshot) -> None:
    assert render_snapshot(sample) == SAMPLE + "\n"


# --- tolerated variants ------------------------------------------------------------------


def drop(first: int, last: int) -> Callable[[str], str]:
    """Remove the sample's lines ``first``..``last`` (1-based, inclusive)."""
    return lambda text: "\n".join(text.split("\n")[: first - 1] + text.split("\n")[last:])


def sub(old: str, new: str) -> Callable[[str], str]:
    def replace(text: str) -> str:
        assert old in text
        return text.replace(old, new)

    return replace


def subs(*pairs: tuple[str, str]) -> Callable[[str], str]:
    def replace(text: str) -> str:
        for old, new in pairs:
            text = sub(old, new)(text)
        return text

    return replace


def move_url_line_up(text: str) -> str:
    lines = text.split("\n")
    url = lines.pop(61)
    return "\n".join([*lines[:55], url, "", *lines[55:]])


def each_line(change: Callable[[str], str]) -> Callable[[str], str]:
    return lambda text: "\n".join(change(line) for line in text.split("\n"))


META = "类别:国际\xa0发布时间:2023-11-14 11:19:00\xa0来源:河南广播电视台"
NO_FOOTER = drop(56, 63)
VARIANTS: list[tuple[str, Callable[[str], str], dict[str, Any]]] = [
    ("crlf", sub("\n", "\r\n"), {}),
    ("bare-cr", sub("\n", "\r"), {}),
    ("bom", lambda text: "\ufeff" + text, {}),
    ("trailing-newline", lambda text: text + "\n\n", {}),
    ("trailing-spaces", each_line(lambda line: line + " \t\xa0"), {}),
    ("full-width-indent", each_line(lambda line: "\u3000\u3000" + line if line else ""), {}),
    ("blank-line-runs", sub("\n\n", "\n\n\n\n"), {}),
    ("one-paragraph-per-line", lambda text: "\n".join(filter(None, text.split("\n"))), {}),
    (
        "full-width-colons",
        subs(
            ("类别:", "类别："),
            ("发布时间:", "发布时间："),
            ("来源:河南", "来源：河南"),
            ("11:19:00", "11：19：00"),
            ("快照生成时间:", "快照生成时间："),
            ("信息原文地址:", "信息原文地址："),
        ),
        {},
    ),
    ("full-width-comma", sub("快照,由", "快照，由"), {}),
    ("meta-date-cn", sub("2023-11-14 11:19:00", "2023年11月14日 11:19"), {}),
    ("meta-date-no-seconds", sub("2023-11-14 11:19:00", "2023-11-14 11:19"), {}),
    ("meta-date-slashes", sub("2023-11-14 11:19:00", "2023/11/14 11:19:00"), {}),
    (
        "meta-date-only",
        sub("2023-11-14 11:19:00", "2023-11-14"),
        {"published_at": bj(2023, 11, 14)},
    ),
    ("snapshot-time-short", sub("15:45:17", "15:45"), {"snapshot_at": bj(2023, 11, 14, 15, 45)}),
    ("item-date-cn", sub("2023-08-02 18:16:00", "2023年8月2日18:16"), {}),
    ("meta-separated-by-spaces", sub("\xa0", "  "), {}),
    ("meta-no-separator", sub("\xa0", ""), {}),
    ("meta-reordered", sub(META, "来源:河南广播电视台 类别:国际 发布时间:2023-11-14 11:19:00"), {}),
    (
        "meta-source-only",
        sub(META, "来源:河南广播电视台"),
        {"category": None, "published_at": None},
    ),
    ("meta-empty-value", sub("类别:国际", "类别:"), {"category": None}),
    (
        "no-meta-line",
        drop(6, 7),
        {"category": None, "published_at": None, "source": None},
    ),
    ("no-breadcrumbs", drop(1, 3), {"breadcrumbs": []}),
    ("flat-breadcrumbs", sub("  • 国际", "• 国际"), {}),
    (
        "url",
        sub("信息原文地址:", "信息原文地址: https://example.com/a?b=1 "),
        {"url": "https://example.com/a?b=1"},
    ),
    ("footer-reordered", move_url_line_up, {}),
    ("no-disclaimer", drop(60, 61), {}),
    ("no-footer", NO_FOOTER, {"crawler": None, "snapshot_at": None}),
    ("no-related", drop(64, 90), {"related": []}),
    ("no-more", drop(91, 120), {"more_in_category_name": None, "more_in_category": []}),
    (
        "no-items",
        drop(64, 120),
        {"related": [], "more_in_category_name": None, "more_in_category": []},
    ),
    (
        "no-footer-no-related",
        lambda text: NO_FOOTER(drop(64, 90)(text)),
        {"crawler": None, "snapshot_at": None, "related": []},
    ),
    ("more-header-full-width", sub("国际的资讯:", "国际的资讯："), {}),
]


@pytest.mark.parametrize(
    ("change", "expected"),
    [pytest.param(change, expected, id=name) for name, change, expected in VARIANTS],
)
def test_tolerated_variants(
    sample: Snapshot, change: Callable[[str], str], expected: dict[str, Any]
) -> None:
    text = change(SAMPLE)
    parsed = parse_snapshot(text)
    assert parsed == sample.model_copy(update=expected)
    rendered = render_snapshot(parsed)
    assert parse_snapshot(rendered) == parsed
    assert render_snapshot(parse_snapshot(rendered)) == rendered


def test_one_line_and_bare_items() -> None:
    text = "标题\n来源:x\n\n信息原文地址:\n\n只有摘要\n2024-01-02 03:04:05\n2024-01-03 00:00\n"
    parsed = parse_snapshot(text)
    assert parsed.related == [
        RelatedItem(excerpt="只有摘要", published_at=bj(2024, 1, 2, 3, 4, 5)),
        RelatedItem(published_at=bj(2024, 1, 3)),
    ]


def test_empty_meta_line_keeps_a_meta_like_paragraph() -> None:
    parsed = parse_snapshot("标题\n类别:\n来源:x 一段正文。\n信息原文地址:")
    assert (parsed.category, parsed.source, parsed.paragraphs) == (
        None,
        None,
        ["来源:x 一段正文。"],
    )
    # Rendered, an empty meta field keeps the paragraph from being read as the meta line.
    assert parse_snapshot(render_snapshot(parsed)) == parsed


def test_caption_rule() -> None:
    lines = ["标题", "来源:x", "标题", "图为会场。", "标题", "短说明", "标题", "他说:“走吧!”"]
    lines += ["标题", "x" * 41, "标题", "“引号”", "本站信息快照查询为非营利公共服务"]
    parsed = parse_snapshot("\n".join(lines))
    assert parsed.paragraphs == ["图为会场。", "他说:“走吧!”", "x" * 41]
    assert [image.caption for image in parsed.images] == [None, "短说明", None, None, "“引号”"]
    assert [image.position for image in parsed.images] == [0, 1, 1, 2, 3]


def test_timezone_argument() -> None:
    paris = parse_snapshot(SAMPLE, timezone="Europe/Paris")
    assert paris.published_at == datetime(2023, 11, 14, 11, 19, tzinfo=ZoneInfo("Europe/Paris"))
    assert paris.published_at is not None
    assert paris.published_at.utcoffset() == timedelta(hours=1)
    fixed = parse_snapshot(SAMPLE, timezone=timezone(timedelta(hours=8)))
    assert fixed == parse_snapshot(SAMPLE)
    with pytest.raises(ValueError, match="unknown time zone"):
        parse_snapshot(SAMPLE, timezone="Mars/Olympus")


def test_render_converts_to_the_zone() -> None:
    utc = parse_snapshot(SAMPLE, timezone="UTC")
    assert "发布时间:2023-11-14 19:19:00" in render_snapshot(utc)
    assert render_snapshot(utc, timezone="UTC") == SAMPLE + "\n"


def test_render_what_the_parser_never_makes(sample: Snapshot) -> None:
    odd = sample.model_copy(
        update={
            "images": [Image(position=99, caption="尾图"), Image(position=0)],
            "related": [
                RelatedItem(title="只有标题", published_at=bj(2024, 1, 1), url="https://x")
            ],
            "more_in_category_name": None,
            "stored": StoredInfo(key="k", content_hash="h"),
        }
    )
    parsed = parse_snapshot(render_snapshot(odd))
    # Slots past the last paragraph go at the end; a lone title reads back as the excerpt;
    # the list keeps its items without a name; stored and item URLs are not text.
    assert parsed.images == [Image(position=0), Image(position=15, caption="尾图")]
    assert parsed.related == [RelatedItem(excerpt="只有标题", published_at=bj(2024, 1, 1))]
    assert parsed.more_in_category == sample.more_in_category
    assert parsed.more_in_category_name is None
    assert parsed.stored is None


# --- bytes and files ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        pytest.param(SAMPLE.encode("utf-8"), None, id="utf-8"),
        pytest.param(b"\xef\xbb\xbf" + SAMPLE.encode("utf-8"), None, id="utf-8-bom"),
        pytest.param(SAMPLE.encode("gb18030"), None, id="gb18030-detected"),
        pytest.param(SAMPLE.replace("\n", "\r\n").encode("gb18030"), None, id="gb18030-crlf"),
        pytest.param(SAMPLE.encode("gb18030"), "gb18030", id="gb18030-explicit"),
        pytest.param(b"\xef\xbb\xbf" + SAMPLE.encode("utf-8"), "utf-8", id="utf-8-explicit-bom"),
    ],
)
def test_parse_bytes(sample: Snapshot, data: bytes, encoding: str | None) -> None:
    assert parse_snapshot_bytes(data, encoding=encoding) == sample


def test_parse_bytes_errors() -> None:
    with pytest.raises(SnapshotParseError, match="utf-8") as excinfo:
        parse_snapshot_bytes(SAMPLE.encode("gb18030"), encoding="utf-8", source="a.txt")
    assert excinfo.value.line == 1
    assert excinfo.value.source == "a.txt"
    with pytest.raises(SnapshotParseError, match="neither UTF-8 nor GB18030") as excinfo:
        parse_snapshot_bytes(b"title\n\xff\xfe\xff\n")
    assert excinfo.value.line == 2
    with pytest.raises(ValueError, match="unknown encoding"):
        parse_snapshot_bytes(b"x", encoding="no-such-codec")


def test_parse_file(sample: Snapshot, tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_bytes(SAMPLE.encode("gb18030"))
    assert parse_snapshot_file(good) == sample
    assert parse_snapshot_file(str(good), encoding="gb18030") == sample
    bad = tmp_path / "bad.txt"
    bad.write_text("just some prose\nand more", encoding="utf-8")
    with pytest.raises(SnapshotParseError) as excinfo:
        parse_snapshot_file(bad)
    assert excinfo.value.source == str(bad)
    assert str(excinfo.value).startswith(f"{bad}:2: not a snapshot")


# --- refusals ----------------------------------------------------------------------------


def with_line(number: int, text: str) -> str:
    """The sample with line ``number`` (1-based) replaced by ``text``."""
    lines = list(SAMPLE_LINES)
    lines[number - 1] = text
    return "\n".join(lines)


ERRORS: list[tuple[str, str, int | None, str]] = [
    ("empty", "", 1, "no title"),
    ("blank", "\n  \n\t\n", 3, "no title"),
    ("breadcrumbs-only", "• 我的订阅\n  • 国际\n", 2, "no title after the breadcrumbs"),
    ("prose", "It was a dark night.\nThe end.\n", 2, "not a snapshot: no meta line"),
    ("json", '{"title": "x", "paragraphs": []}', 1, "not a snapshot"),
    ("meta-before-title", "类别:国际 来源:x\n标题\n", 1, "found the meta line"),
    ("date-as-title", "2023-11-14 11:19:00\n来源:x\n", 1, "found a date line"),
    ("footer-as-title", "快照生成时间:2023-11-14 15:45:17\n", 1, "found a footer line"),
    ("no-meta-no-footer", drop(6, 6)(NO_FOOTER(SAMPLE)), 7, "not a snapshot"),
    ("impossible-meta-date", with_line(6, "发布时间:2023-02-30 11:19:00"), 6, "impossible date"),
    ("hour-25", with_line(6, "发布时间:2023-11-14 25:00"), 6, "impossible date"),
    ("meta-date-text", with_line(6, "发布时间:下午三点 来源:x"), 6, "发布时间 is not a date"),
    ("meta-duplicate", with_line(6, "来源:a 来源:b"), 6, "来源 twice"),
    (
        "impossible-snapshot-time",
        with_line(58, "快照生成时间:2023-13-01 00:00:00"),
        58,
        "impossible",
    ),
    ("snapshot-time-text", with_line(58, "快照生成时间:昨天"), 58, "快照生成时间 is not a date"),
    ("second-url-line", with_line(59, "信息原文地址:https://a"), 62, "second url"),
    ("impossible-item-date", with_line(66, "2023-02-29 18:16:00"), 66, "impossible date"),
    ("three-line-item", with_line(65, "摘要\n更多"), 64, "3 lines before its date"),
    ("item-without-date", SAMPLE + "\n多出来的一行", 121, "without a date line"),
    ("related-without-date", with_line(90, "没有日期"), 88, "related item without a date"),
    ("surrogate", "标题\ud800\n来源:x", 1, "invalid title"),
]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [pytest.param(text, line, message, id=name) for name, text, line, message in ERRORS],
)
def test_refusals(text: str, line: int | None, message: str) -> None:
    with pytest.raises(SnapshotParseError, match=re.escape(message)) as excinfo:
        parse_snapshot(text, source="page.txt")
    assert excinfo.value.line == line
    assert excinfo.value.source == "page.txt"
    where = "page.txt" if line is None else f"page.txt:{line}"
    assert str(excinfo.value) == f"{where}: {excinfo.value.reason}"


# --- format sniffing ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(SAMPLE, True, id="sample"),
        pytest.param("\ufeff标题\r\n来源：新华社\r\n", True, id="meta-line"),
        pytest.param("标题\n" + "正文\n" * 50 + "快照生成时间:2023-11-14", True, id="footer"),
        pytest.param(
            "标题\n" + "正文\n" * 70 + "快照生成时间:2023-11-14", False, id="footer-too-far"
        ),
        pytest.param('{"title": "x", "来源": "y"}', False, id="json"),
        pytest.param("url,title\nhttps://a,b\n", False, id="csv"),
        pytest.param("", False, id="empty"),
    ],
)
def test_looks_like_snapshot(text: str, expected: bool) -> None:
    assert looks_like_snapshot(text) is expected


# --- properties --------------------------------------------------------------------------

LINE_CHARS = st.one_of(
    st.sampled_from(
        list("类别发布时间来源快照更多关于的资讯:：,，。!？….;；•-/ 0123456789年月日T\xa0”）")
    ),
    st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")),
)
SPECIAL_LINES = st.sampled_from(
    [
        *(TITLE, "", "• 国际", META, "发布时间:2023-02-30", "来源:", "...摘要"),
        *SAMPLE_LINES[55:62],
        *("更多关于国际的资讯:", "2023-11-14 11:19", "2023年11月14日 11:19"),
    ]
)
ANY_LINES = st.lists(st.one_of(SPECIAL_LINES, st.text(LINE_CHARS, max_size=50)), max_size=30)


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(), ANY_LINES.map("\n".join)))
def test_arbitrary_text_only_raises_parse_errors(text: str) -> None:
    try:
        parsed = parse_snapshot(text)
    except SnapshotParseError:
        return
    rendered = render_snapshot(parsed)
    assert parse_snapshot(rendered) == parsed
    assert render_snapshot(parse_snapshot(rendered)) == rendered


@settings(max_examples=150, deadline=None)
@given(st.integers(0, len(SAMPLE_LINES)), st.one_of(st.text(), ANY_LINES.map("\n".join)))
def test_text_inserted_into_the_sample_only_raises_parse_errors(at: int, inserted: str) -> None:
    text = "\n".join([*SAMPLE_LINES[:at], inserted, *SAMPLE_LINES[at:]])
    try:
        parsed = parse_snapshot(text)
    except SnapshotParseError:
        return
    rendered = render_snapshot(parsed)
    assert parse_snapshot(rendered) == parsed
    assert render_snapshot(parse_snapshot(rendered)) == rendered


# Strings the text form can hold on one line where they appear: no line breaks, no
# surrounding whitespace, nothing that reads as a meta, footer, header or date line.
SPECIAL = re.compile(
    r"(?:类别|发布时间|来源)\s*[:：]|以上内容为资讯信息快照|快照生成时间\s*[:：]"
    r"|本站信息快照查询为非营利公共服务|信息原文地址\s*[:：]|更多关于.*的资讯\s*[:：]$"
)
DATE_LIKE = re.compile(r"[0-9年月日/.\-\s:：T]+")
TEXT = st.text(LINE_CHARS, min_size=1, max_size=30).map(str.strip).filter(bool)
PLAIN = TEXT.filter(lambda s: not SPECIAL.match(s) and not DATE_LIKE.fullmatch(s))
TIMES = st.datetimes(datetime(1900, 1, 1), datetime(2200, 12, 31)).map(
    lambda t: t.replace(microsecond=0)
)


def caption_like(line: str) -> bool:
    """The documented caption rule: at most 40 characters, no sentence end before closers."""
    bare = line.rstrip("”’\"')）」』】》")
    return len(line) <= 40 and not (bare and bare[-1] in "。！？!?….;；")


ITEMS = st.lists(
    st.one_of(
        st.fixed_dictionaries({"title": PLAIN, "excerpt": PLAIN, "published_at": TIMES}),
        st.fixed_dictionaries({"excerpt": PLAIN, "published_at": TIMES}),
        st.fixed_dictionaries({"published_at": TIMES}),
    ),
    max_size=4,
)


@st.composite
def parser_shaped(draw: st.DrawFn) -> Snapshot:
    """A snapshot as the parser could have produced it."""
    # A page's leading BOM is dropped (documented), and the title may be the first line.
    title = draw(PLAIN.filter(lambda s: not s.startswith(("•", "\ufeff"))))
    paragraphs = draw(st.lists(PLAIN.filter(lambda s: s != title), max_size=6))
    positions = sorted(draw(st.lists(st.integers(0, len(paragraphs)), max_size=4)))
    captions = PLAIN.filter(lambda s: s != title and caption_like(s))
    images: list[dict[str, Any]] = [
        {"position": p, "caption": draw(st.none() | captions)} for p in positions
    ]
    for k, image in enumerate(images):
        last_here = k + 1 == len(images) or images[k + 1]["position"] != image["position"]
        p = image["position"]
        if last_here and image["caption"] is None and p < len(paragraphs):
            # Right after an uncaptioned slot, a paragraph must not read as its caption.
            if caption_like(paragraphs[p]):
                paragraphs[p] += "。"
            assume(paragraphs[p] != title)
    meta_value = PLAIN.filter(lambda s: not re.search(r"(?:类别|发布时间|来源)\s*[:：]", s))
    return Snapshot.model_validate(
        {
            "breadcrumbs": draw(st.lists(TEXT, max_size=3)),
            "title": title,
            "category": draw(st.none() | meta_value),
            "published_at": draw(st.none() | TIMES),
            "source": draw(st.none() | meta_value),
            "paragraphs": paragraphs,
            "images": images,
            "crawler": draw(st.none() | PLAIN.filter(lambda s: "爬虫进行采集并收录" not in s)),
            "snapshot_at": draw(st.none() | TIMES),
            "url": draw(st.none() | PLAIN),
            "related": draw(ITEMS),
            "more_in_category_name": draw(st.none() | TEXT),
            "more_in_category": draw(ITEMS),
        }
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parser_shaped())
def test_render_parse_round_trip(snapshot: Snapshot) -> None:
    rendered = render_snapshot(snapshot)
    assert parse_snapshot(rendered) == snapshot
    assert render_snapshot(parse_snapshot(rendered)) == rendered


# --- the benchmark script ----------------------------------------------------------------


def test_bench_run() -> None:
    spec = importlib.util.spec_from_file_location("parse_speed", ROOT / "bench" / "parse_speed.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.run(3)
    assert result["pages"] == 3
    assert result["pages_per_second"] > 0
    assert result["bytes_per_page"] == len(SAMPLE.encode("utf-8"))
