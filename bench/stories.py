"""A labelled generator of syndicated Chinese news stories, for the near-duplicate figures.

Each *story* is 8–16 distinct paragraphs made of phrases cut from the sample page
(``tests/data``) and topic words, joined with full-width commas: real-looking text, and
no two stories share a paragraph. Each story is published once and then republished
2–10 times by other sites, each copy changed as syndication changes it:

* other breadcrumbs, a header line (``来源：…``, ``原标题：…``) and a footer line
  (``责任编辑：…``, ``（完）``) added as paragraphs;
* a rewritten title;
* one paragraph dropped, or one added;
* punctuation switched between full-width and half-width (``，`` ↔ ``,``);
* a few characters edited.

Unrelated stories on the same topic words (a quarter of them share a topic with another
story) are the negatives. Every record carries its story number in ``label``; record
``i`` of a set is a pure function of ``(seed, i)``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from .generate import SAMPLE

__all__ = ["TOPICS", "story_records"]

_BEIJING = timezone(timedelta(hours=8))
TOPICS = [
    ["俄罗斯", "乌克兰", "普京", "泽连斯基", "谈判"],
    ["中美", "华盛顿", "外交部", "王毅", "布林肯"],
    ["经济", "增长", "消费", "出口", "央行"],
    ["台风", "暴雨", "预警", "转移", "救援"],
    ["芯片", "人工智能", "企业", "研发", "产业链"],
    ["足球", "联赛", "比赛", "球队", "教练"],
]
_SITES = ["新华网", "人民网", "央视网", "中国新闻网", "环球网", "澎湃新闻", "新浪新闻", "网易新闻"]
_HEADERS = ["来源：{site}", "原标题：{title}", "【{site}讯】", "本文转自{site}客户端"]
_FOOTERS = ["责任编辑：{name}", "（完）", "【纠错】 责任编辑：{name}", "（来源：{site}）"]
_NAMES = ["王伟", "李娜", "张敏", "刘洋", "陈静", "杨帆", "赵磊", "黄婷"]
_FULL_TO_HALF = {"，": ",", "：": ":", "；": ";", "？": "?", "！": "!", "（": "(", "）": ")"}
_HALF_TO_FULL = {v: k for k, v in _FULL_TO_HALF.items()}
_EDIT_CHARS = "的了在是和有为这中大上国个到说们"


def _phrases() -> list[str]:
    text = SAMPLE.read_text(encoding="utf-8")
    parts = re.split(r"[，,。！？!?；;：:\n“”\"]+", text)
    return sorted({p.strip() for p in parts if 4 <= len(p.strip()) <= 30 and "•" not in p})


_PHRASES: list[str] | None = None


def _story(seed: int, number: int) -> dict[str, Any]:
    global _PHRASES
    if _PHRASES is None:
        _PHRASES = _phrases()
    rng = random.Random(seed * 1_000_003 + number)
    topic = TOPICS[rng.randrange(len(TOPICS))]
    paragraphs = []
    for _ in range(rng.randint(8, 16)):
        pieces = rng.sample(_PHRASES, rng.randint(3, 5))
        # Topic words and a number make every paragraph distinct while on the topic.
        pieces.insert(rng.randrange(len(pieces)), rng.choice(topic) + str(rng.randint(2, 999)))
        paragraphs.append("，".join(pieces) + "。")
    published = datetime(2023, 11, 1, 8, tzinfo=_BEIJING) + timedelta(
        minutes=rng.randrange(30 * 1440)
    )
    return {
        "title": rng.choice(topic) + "：" + rng.choice(_PHRASES),
        "paragraphs": paragraphs,
        "published_at": published,
        "topic": topic,
    }


def _switch_punctuation(text: str, rng: random.Random) -> str:
    table = _FULL_TO_HALF if rng.random() < 0.5 else _HALF_TO_FULL
    return "".join(table.get(ch, ch) for ch in text)


def _edit(paragraphs: list[str], rng: random.Random) -> None:
    for _ in range(rng.randint(1, 5)):
        i = rng.randrange(len(paragraphs))
        text = paragraphs[i]
        at = rng.randrange(len(text))
        paragraphs[i] = text[:at] + rng.choice(_EDIT_CHARS) + text[at + 1 :]


def _copy(story: dict[str, Any], rng: random.Random, other: dict[str, Any]) -> dict[str, Any]:
    site = rng.choice(_SITES)
    paragraphs = list(story["paragraphs"])
    if rng.random() < 0.5 and len(paragraphs) > 2:
        del paragraphs[rng.randrange(len(paragraphs))]
    else:
        # An added paragraph: an editor's own, on the same topic.
        paragraphs.insert(rng.randrange(len(paragraphs) + 1), rng.choice(other["paragraphs"]))
    _edit(paragraphs, rng)
    paragraphs = [_switch_punctuation(p, rng) for p in paragraphs]
    fill = {"site": site, "title": story["title"], "name": rng.choice(_NAMES)}
    paragraphs.insert(0, rng.choice(_HEADERS).format(**fill))
    paragraphs.append(rng.choice(_FOOTERS).format(**fill))
    return {
        "title": rng.choice(story["topic"]) + "｜" + story["title"][::-1][:20],
        "paragraphs": paragraphs,
        "breadcrumbs": [site, rng.choice(["国际", "时政", "要闻", "滚动"])],
        "source": site,
        "published_at": story["published_at"] + timedelta(minutes=rng.randint(5, 2880)),
    }


def story_records(
    stories: int, *, seed: int = 17, copies: tuple[int, int] = (2, 10)
) -> Iterator[dict[str, Any]]:
    """Snapshot records of ``stories`` stories, each with its copies; ``label`` is the story.

    Half of the stories are republished (2–10 copies each), the other half stand alone:
    the unrelated stories on the same topic words that ``similar`` must not return.
    """
    for number in range(stories):
        story = _story(seed, number)
        rng = random.Random(seed * 7_919 + number)
        yield {
            "url": f"https://www.origin.cn/{number:07d}.html",
            "title": story["title"],
            "source": "新华社",
            "breadcrumbs": ["首页", "新闻"],
            "paragraphs": story["paragraphs"],
            "published_at": story["published_at"].isoformat(),
            "label": number,
        }
        if rng.random() < 0.5:
            continue
        other = _story(seed + 1, number)
        for copy in range(rng.randint(*copies)):
            rec = _copy(story, rng, other)
            rec["url"] = f"https://www.site{copy:02d}.com/{number:07d}.html"
            rec["published_at"] = rec["published_at"].isoformat()
            rec["label"] = number
            yield rec


# -- filler: the rest of a large store ------------------------------------------------------
# Unrelated pages in bulk need a vocabulary far larger than one sample page: words of one
# to three characters from the 5,000 code points after U+4E00 (most common characters live
# there), drawn with Zipf's law, so that common words are shared by every page as in real
# Chinese text and rare ones are not.
_VOCABULARY = 20_000
_WORDS: list[str] | None = None
_CUMULATIVE: list[float] | None = None


def _vocabulary() -> tuple[list[str], list[float]]:
    global _WORDS, _CUMULATIVE
    if _WORDS is None or _CUMULATIVE is None:
        rng = random.Random(4_000_037)
        _WORDS = [
            "".join(chr(0x4E00 + rng.randrange(5_000)) for _ in range(rng.choice((1, 2, 2, 3))))
            for _ in range(_VOCABULARY)
        ]
        total = 0.0
        _CUMULATIVE = []
        for rank in range(1, _VOCABULARY + 1):
            total += 1.0 / rank
            _CUMULATIVE.append(total)
    return _WORDS, _CUMULATIVE


FILLER_DAYS = 6 * 365


def filler_records(
    count: int, *, seed: int = 71, start: int = 0, days: int = FILLER_DAYS
) -> Iterator[dict[str, Any]]:
    """``count`` unrelated pages (label -1), 8–16 paragraphs each.

    Published over 2019–2025 (``days`` = :data:`FILLER_DAYS`); a shorter ``days`` centres the
    span on the labelled stories' November 2023, so a smaller store keeps a day as full.
    """
    words, cumulative = _vocabulary()
    origin = datetime(2019, 1, 1, tzinfo=_BEIJING)
    if days != FILLER_DAYS:
        origin = datetime(2023, 11, 15, tzinfo=_BEIJING) - timedelta(days=days // 2)
    span = days * 1440
    for index in range(start, start + count):
        rng = random.Random(seed * 1_000_003 + index)
        paragraphs = [
            "".join(rng.choices(words, cum_weights=cumulative, k=rng.randint(25, 60))) + "。"
            for _ in range(rng.randint(8, 16))
        ]
        yield {
            "url": f"https://www.filler{index % 97:02d}.cn/{index:08d}.html",
            "title": paragraphs[0][:20],
            "source": _SITES[index % len(_SITES)],
            "paragraphs": paragraphs,
            "published_at": (origin + timedelta(minutes=rng.randrange(span))).isoformat(),
            "label": -1,
        }
