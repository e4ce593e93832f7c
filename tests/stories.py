"""Stories for the near-duplicate tests: the sample's paragraphs, and copies as syndication
makes them (another header and footer, a paragraph dropped, punctuation switched, a few
characters edited)."""

from __future__ import annotations

from functools import cache

from newsstore import parse_snapshot_file

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
