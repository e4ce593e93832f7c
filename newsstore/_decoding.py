"""Which encoding an input is read in: one rule for every format and every command.

* Without an encoding asked for, JSON and NDJSON are UTF-8 (a BOM is dropped) and snapshot
  text is UTF-8, else GB18030 (the crawler's other output encoding).
* With one asked for (``--encoding``, ``encoding=``), every format is read in it: text,
  NDJSON and JSON alike (anything but UTF-8 is decoded as it is read, in constant memory).
* A file that looks like an encoding other than the one asked for (or, when none was
  asked, like one that is not UTF-8) is refused whole, with a message naming the encoding
  it looks like: read in the wrong one it would give garbage, or only its first line.
  What it looks like is told by its byte order mark (UTF-8, UTF-16, UTF-32), else by where
  its NUL bytes fall (ASCII characters in UTF-16 have a NUL beside them; UTF-8 text and
  the 8-bit encodings have none), else by its first 4 KiB being valid UTF-8 with
  non-ASCII characters (which GB18030 or Latin-1 text almost never is, and which read as
  one of those would be garbage).
"""

from __future__ import annotations

import codecs
import io
from typing import Any

from ._errors import SnapshotParseError

__all__ = [
    "Transcoded",
    "WrongEncodingError",
    "decode_text",
    "looks_like",
    "source_encoding",
]

_BOMS = (  # longest first: a UTF-32-LE BOM starts with the UTF-16-LE one
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_SAMPLE = 4096
_UTF8 = ("utf-8", "utf-8-sig")
_BINARY = "NUL bytes in no pattern: binary"


class WrongEncodingError(ValueError):
    """The input looks like another encoding than the one it would be read in."""


def looks_like(head: bytes) -> tuple[str | None, str]:
    """The encoding the start of a file looks like, and why; None for UTF-8 or 8-bit text.

    The encoding is a codec name with its byte order (``utf-16-le``) or ``utf-8`` (for a
    UTF-8 BOM only).
    """
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name, "byte order mark"
    sample = head[:_SAMPLE]
    if b"\x00" not in sample:
        if not sample.isascii() and _is_utf8(sample):
            return "utf-8", "valid UTF-8 with non-ASCII characters"
        return None, "no NUL bytes"
    nuls = [sample[i::4].count(0) for i in range(4)]  # NUL bytes at each position mod 4
    quarter = len(sample) // 4
    # UTF-32: the top byte of every character is NUL (no code point reaches 2^24), and so
    # is the next one for nearly all (the plane: 0 for the BMP).
    if quarter and nuls[3] == quarter and nuls[2] > quarter // 2 and nuls[0] < quarter:
        return "utf-32-le", "NUL bytes"
    if quarter and nuls[0] == quarter and nuls[1] > quarter // 2 and nuls[3] < quarter:
        return "utf-32-be", "NUL bytes"
    # UTF-16: an ASCII character has its NUL on one side; a CJK one may have one on the
    # other (U+4E00 is 4E 00), far less often.
    # Binary data has NUL bytes too, but few and on both sides.
    odd, even = nuls[1] + nuls[3], nuls[0] + nuls[2]
    enough = max(2, len(sample) // 64)  # 1 character in 32
    if odd >= 4 * even and odd >= enough:
        return "utf-16-le", "NUL bytes"
    if even >= 4 * odd and even >= enough:
        return "utf-16-be", "NUL bytes"
    return None, _BINARY


def _is_utf8(sample: bytes) -> bool:
    try:
        # Not final: the sample may end inside a character.
        codecs.utf_8_decode(sample, "strict", False)
    except UnicodeDecodeError:
        return False
    return True


def _family(name: str) -> str:
    return name[:6] if name.startswith(("utf-16", "utf-32")) else name


def source_encoding(head: bytes, asked: str | None) -> str | None:
    """The codec to read a file starting with ``head`` in, when it is not plain UTF-8.

    None means: read as without an encoding asked for (``asked`` None) or as UTF-8.
    Raises :class:`WrongEncodingError` when the file looks like another encoding, and
    ``LookupError`` for an unknown ``asked``.
    """
    if not head:
        return None  # nothing to read in any encoding: the caller says it is empty
    looks, why = looks_like(head)
    wide = looks is not None and looks != "utf-8"
    shown = looks.upper() if looks else ""
    if asked is None:
        if looks is not None and wide:
            raise WrongEncodingError(
                f"looks like {shown} text ({why}), not UTF-8: give its encoding ({looks[:6]})"
            )
        return None
    name = codecs.lookup(asked).name
    if name in _UTF8:
        if wide:
            raise WrongEncodingError(f"looks like {shown} text ({why}), not {asked}")
        return None
    family = _family(name)
    if family in ("utf-16", "utf-32"):
        if looks is None or _family(looks) != family or (name != family and name != looks):
            what = f"{shown} text ({why})" if looks else f"an 8-bit encoding ({why})"
            if why == _BINARY:
                what = why
            raise WrongEncodingError(f"does not look like {asked} text: it looks like {what}")
        # The byte order named, else the one found (the generic codec would guess it without
        # a BOM); a BOM is then read as U+FEFF, which every reader drops.
        return name if name != family else looks
    if looks is not None:
        raise WrongEncodingError(f"looks like {shown} text ({why}), not {asked}")
    return name


class Transcoded(io.RawIOBase):
    """``stream`` (bytes in ``encoding``) read as UTF-8, decoded as it is read.

    A byte that does not decode raises :class:`UnicodeDecodeError` with ``start`` its
    offset in the whole stream. The stream is the caller's to close.
    """

    def __init__(self, stream: Any, encoding: str, chunk: int = 1 << 20) -> None:
        self._stream = stream
        self._encoding = encoding
        self._decoder = codecs.getincrementaldecoder(encoding)("strict")
        self._chunk = chunk
        self._pending = b""
        self._at = 0  # read position in _pending
        self._offset = 0  # bytes of the source decoded so far
        self._done = False
        self._error: UnicodeDecodeError | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self._at == len(self._pending) and not self._done:
            if self._error is not None:
                raise self._error
            data = self._stream.read(self._chunk)
            self._done = not data
            try:
                text = self._decoder.decode(data, final=self._done)
            except UnicodeDecodeError as exc:
                # What decodes before the bad byte is read first (the records in it land),
                # then the error, with its offset in the whole stream.
                held = len(exc.object) - len(data)  # bytes the decoder kept from before
                at = self._offset - held + exc.start
                text = codecs.decode(exc.object[: exc.start], self._encoding)
                self._error = UnicodeDecodeError(
                    exc.encoding, exc.object, exc.start, exc.end, f"{exc.reason} at byte {at}"
                )
                self._done = False
            self._offset += len(data)
            self._pending, self._at = text.encode("utf-8"), 0
        n = min(len(buffer), len(self._pending) - self._at)
        buffer[:n] = self._pending[self._at : self._at + n]
        self._at += n
        return n


def decode_text(data: bytes, encoding: str | None, source: str | None) -> str:
    """Snapshot text decoded by the rules above; a failure is a SnapshotParseError naming
    the line of the bad byte (an unknown ``encoding``, a ValueError)."""
    try:
        codec = source_encoding(data[:4096], encoding)
    except LookupError as exc:
        raise ValueError(f"unknown encoding {encoding!r}") from exc
    except WrongEncodingError as exc:
        raise SnapshotParseError(str(exc), line=1, source=source) from None
    if encoding is not None:
        try:
            return data.decode(codec or encoding)
        except UnicodeDecodeError as exc:
            raise _undecodable(
                data, exc, f"not valid {encoding} text: {exc.reason} at byte {exc.start}", source
            ) from None
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        message = f"neither UTF-8 nor GB18030 text (byte {exc.start}); pass the encoding"
        raise _undecodable(data, exc, message, source) from None


def _undecodable(
    data: bytes, exc: UnicodeDecodeError, message: str, source: str | None
) -> SnapshotParseError:
    """A decoding failure, named by the line holding the bad byte."""
    return SnapshotParseError(message, line=data.count(b"\n", 0, exc.start) + 1, source=source)
