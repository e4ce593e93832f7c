"""Stories for the near-duplicate tests: the sample's paragraphs, and copies as syndication
makes them (another header and footer, a paragraph dropped, punctuation switched, a few
characters edited)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from newsstore import Snapshot, parse_snapshot_file

from .conftest import SAMPLE

_HALF = {",": "，", ":": "：", "?": "？", "!": "！", ";": "；"}


@cache
def sample_paragraphs() -> tuple[str, ...]:
    return tuple(parse_snapshot_file(SAMPLE).paragraphs)


def story_a() -> list[str]:
    """Eight paragraphs of the sample (its first half)."""
    return list(sample_paragraphs()[:8])


def story_b() -> list[str]:
    """Seven other paragraphs of the sample: the same topic words, another text."""
    return list(sample_paragraphs()[8:])


def republished(paragraphs: list[str], variant: int = 0) -> list[str]:
    """A copy as another site prints it; ``variant`` picks which paragraph goes and where
    the characters are edited."""
    body = list(paragraphs)
    del body[(variant * 3 + 1) % len(body)]
    body = ["".join(_HALF.get(ch, ch) for ch in p) for p in body]
    edited = body[variant % len(body)]
    body[variant % len(body)] = edited[:10] + "的" + edited[11:20] + "了" + edited[21:]
    return [f"来源：网站{variant}", *body, f"责任编辑：编辑{variant}"]


def story_url(name: str) -> str:
    return f"https://{name}.example.com/news/1.html"


def syndicated_snapshots(make: Callable[..., Snapshot], day: datetime) -> list[Snapshot]:
    """Story A from its first publisher (a0, 新华社, 9:00) and two other sites (a2 at 10:00,
    a1 at 11:00); story B alone (b0); a page too short to fingerprint."""
    when = day + timedelta(hours=9)
    site: dict[str, Any] = {"a1": ("人民网", 2), "a2": ("环球网", 1)}
    return [
        make(url=story_url("a0"), paragraphs=story_a(), source="新华社", published_at=when),
        *(
            make(
                url=story_url(name),
                paragraphs=republished(story_a(), int(name[1])),
                source=source,
                published_at=when + timedelta(hours=hours),
            )
            for name, (source, hours) in site.items()
        ),
        make(url=story_url("b0"), paragraphs=story_b(), source="新华社", published_at=when),
        make(url=story_url("short"), paragraphs=["短讯。"], published_at=when),
    ]
