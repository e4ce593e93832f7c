"""A deterministic generator of snapshots shaped like the sample page in ``tests/data``.

Every record is a pure function of ``(seed, index)``: record ``i`` can be regenerated on its
own, so any number of records streams in constant memory and the same parameters always
give the same bytes. The text is cut from the sample's own Chinese paragraphs and item
excerpts; each page has about as many paragraphs, image slots and related and
more-in-category items (9 + 13) as the sample, so a record is about as large (~11.5 KB of
JSON). Dates spread over 2019-2025 in Beijing time; URLs over 60 hosts, 10 categories and
30 sources, some spelled with ``http://``, ``www.`` or tracking parameters.

A share of records (``repeat_share``, 10% by default) repeats the URL of an earlier record,
so that dedup and versioning are exercised: half of them with identical content under
another spelling of the URL (``unchanged``), half with an edited paragraph and a later or
earlier snapshot time (``updated`` or ``versioned``). One record in a hundred has no URL and
is keyed by its content (its ``url`` is ``""``).

Run ``python -m bench generate --count N --ndjson out.ndjson [--text-dir DIR]``.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any

__all__ = [
    "GENERATOR_VERSION",
    "GenParams",
    "generate",
    "record",
    "write_ndjson",
    "write_text_files",
]

SAMPLE = (
    Path(__file__).resolve().parent.parent / "tests" / "data" / "snapshot-zh-intl-2023-11-14.txt"
)
# Part of every cache key: bump it when a change here changes the records generated.
GENERATOR_VERSION = 2
_BEIJING = timezone(timedelta(hours=8))
_START = datetime(2019, 1, 1, tzinfo=_BEIJING)
_SPAN_SECONDS = int((datetime(2025, 10, 1, tzinfo=_BEIJING) - _START).total_seconds())
_CATEGORIES = [
    ("国际", "world"),
    ("国内", "china"),
    ("财经", "finance"),
    ("科技", "tech"),
    ("体育", "sports"),
    ("娱乐", "ent"),
    ("军事", "mil"),
    ("社会", "society"),
    ("教育", "edu"),
    ("健康", "health"),
]
_SOURCES = [
    "河南广播电视台",
    "新华社",
    "人民网",
    "央视新闻",
    "环球时报",
    "中国新闻网",
    "澎湃新闻",
    "参考消息",
    "光明网",
    "经济日报",
    "北京日报",
    "解放日报",
    "南方都市报",
    "新京报",
    "每日经济新闻",
    "第一财经",
    "界面新闻",
    "观察者网",
    "海外网",
    "中国日报",
    "国际在线",
    "央广网",
    "中青网",
    "法治日报",
    "科技日报",
    "工人日报",
    "农民日报",
    "大众日报",
    "羊城晚报",
    "扬子晚报",
]
_HOSTS = [f"news.site{i:02d}.com.cn" for i in range(30)] + [
    f"www.portal{i:02d}.cn" for i in range(30)
]
_TRACKING = [
    "utm_source=wechat",
    "utm_medium=feed&utm_source=app",
    "spm=a2c4g.11186623",
    "from=timeline",
]


@dataclass(frozen=True, slots=True)
class GenParams:
    """What a generated data set depends on; also the cache key of stores built from it."""

    seed: int = 20231114
    repeat_share: float = 0.10
    no_url_share: float = 0.01

    def tag(self) -> str:
        return f"g{GENERATOR_VERSION}-s{self.seed}-r{self.repeat_share:g}-n{self.no_url_share:g}"


_STRUCTURE = (
    "以上内容为",
    "本站信息快照",
    "快照生成时间",
    "信息原文地址",
    "更多关于",
    "类别",
    "来源",
)


class _Corpus:
    """The sample's sentences and item excerpts, for cutting new text from."""

    def __init__(self) -> None:
        lines = [ln.strip() for ln in SAMPLE.read_text(encoding="utf-8").splitlines()]
        # Body text only: footer and list headers would read as structure in a text page.
        lines = [ln for ln in lines if not ln.startswith(_STRUCTURE) and "•" not in ln]
        text = [ln for ln in lines if len(ln) > 30]
        sentences = [s + "。" for ln in text for s in re.split(r"[。!?]", ln) if len(s) > 8]
        self.sentences = sentences
        self.phrases = [p for s in sentences for p in re.split(r"[,，、;]", s) if len(p) > 5]
        self.captions = [ln for ln in lines if 2 <= len(ln) <= 12 and not ln[0].isdigit()]


_CORPUS: _Corpus | None = None


def _corpus() -> _Corpus:
    global _CORPUS
    if _CORPUS is None:
        _CORPUS = _Corpus()
    return _CORPUS


def _iso(dt: datetime) -> str:
    return dt.isoformat()


def _is_repeat(params: GenParams, index: int) -> bool:
    draw = random.Random(params.seed * 1_000_003 + index).random()
    return index > 0 and draw < params.repeat_share


def _base(params: GenParams, index: int) -> dict[str, Any]:
    """Record ``index`` as an original (not a repeat)."""
    c = _corpus()
    rng = random.Random(params.seed * 7_919 + index)
    category, slug = _CATEGORIES[rng.randrange(len(_CATEGORIES))]
    published = _START + timedelta(seconds=rng.randrange(_SPAN_SECONDS) // 60 * 60)
    snapshot_at = published + timedelta(seconds=rng.randrange(60, 3 * 86400))
    host = _HOSTS[rng.randrange(len(_HOSTS))]
    # A page without a known URL has "" (newsstore keys it by content): sqlite-utils, the
    # peer the import is compared with, refuses a null primary key.
    url = (
        f"https://{host}/{slug}/{published:%Y%m}/{published:%d}/{index:08d}.html"
        if rng.random() >= params.no_url_share
        else ""
    )
    title = "".join(rng.choices(c.phrases, k=2))[:40]
    paragraphs = [
        "".join(rng.choices(c.sentences, k=2 + (rng.random() < 0.5)))
        for _ in range(12 + int(rng.random() * 5))
    ]
    images = [
        {"position": pos, "caption": rng.choice(c.captions) if rng.random() < 0.3 else None}
        for pos in sorted(rng.sample(range(1, len(paragraphs)), 7))
    ]

    def item(before: datetime, spread_days: int, titled: bool) -> dict[str, Any]:
        when = before - timedelta(minutes=int(rng.random() * spread_days * 1440))
        return {
            "title": rng.choice(c.phrases)[:30] if titled else None,
            "excerpt": "".join(rng.choices(c.sentences, k=2))[:90],
            "published_at": _iso(when),
            "url": None,
        }

    related = [item(published, 700, True) for _ in range(9)]
    more = [item(snapshot_at, 5, rng.random() < 0.3) for _ in range(13)]
    return {
        "url": url,
        "title": title,
        "category": category,
        "published_at": _iso(published),
        "source": _SOURCES[rng.randrange(len(_SOURCES))],
        "breadcrumbs": ["我的订阅", category],
        "paragraphs": paragraphs,
        "images": images,
        "crawler": "td.fyun.cc",
        "snapshot_at": _iso(snapshot_at),
        "related": related,
        "more_in_category_name": category,
        "more_in_category": more,
    }


def _respell(url: str, rng: random.Random) -> str:
    """Another spelling of the same URL: scheme, www., tracking parameters, fragment."""
    choice = rng.randrange(4)
    if choice == 0:
        return url.replace("https://", "http://", 1)
    if choice == 1:
        return url.replace("https://news.", "https://www.news.", 1) + "#comments"
    return f"{url}?{_TRACKING[rng.randrange(len(_TRACKING))]}"


def record(params: GenParams, index: int) -> dict[str, Any]:
    """Record ``index`` of the data set: an original, or a repeat of an earlier URL."""
    if not _is_repeat(params, index):
        return _base(params, index)
    rng = random.Random(params.seed * 104_729 + index)
    # Mostly recent records (same or previous batches), some from far back.
    window = 3_000 if rng.random() < 0.7 else index
    for _ in range(20):
        origin = rng.randrange(max(0, index - window), index)
        if not _is_repeat(params, origin):
            break
    else:
        return _base(params, index)
    rec = _base(params, origin)
    if rec["url"]:
        rec["url"] = _respell(rec["url"], rng)
    if rng.random() < 0.5:
        return rec  # identical content
    c = _corpus()
    where = rng.randrange(len(rec["paragraphs"]))
    rec["paragraphs"][where] = "".join(rng.choice(c.sentences) for _ in range(2)) + "(更新)"
    shift = timedelta(hours=rng.randint(1, 72))
    snapshot_at = datetime.fromisoformat(rec["snapshot_at"])
    # Mostly a newer crawl; sometimes an older one arriving late (a version for history).
    rec["snapshot_at"] = _iso(snapshot_at + shift if rng.random() < 0.75 else snapshot_at - shift)
    return rec


def generate(
    count: int, params: GenParams | None = None, start: int = 0
) -> Iterator[dict[str, Any]]:
    """Records ``start`` … ``start + count - 1``."""
    params = params or GenParams()
    for index in range(start, start + count):
        yield record(params, index)


def write_ndjson(fp: IO[str], count: int, params: GenParams | None = None) -> int:
    """Write ``count`` records as NDJSON (UTF-8 text, one object a line); returns the count."""
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    n = 0
    for rec in generate(count, params):
        fp.write(dumps(rec) + "\n")
        n += 1
    return n


def write_text_files(directory: Path, count: int, params: GenParams | None = None) -> int:
    """Write ``count`` records as snapshot text pages (``NNNNNNN.txt``) into ``directory``.

    Uses :func:`newsstore.render_snapshot`.
    """
    from newsstore import Snapshot, render_snapshot

    directory.mkdir(parents=True, exist_ok=True)
    for index, rec in enumerate(generate(count, params)):
        text = render_snapshot(Snapshot.model_validate(rec))
        (directory / f"{index:07d}.txt").write_text(text, encoding="utf-8")
    return count
