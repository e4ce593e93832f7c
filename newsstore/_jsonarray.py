"""A JSON array read element by element (never loaded whole), or a single JSON object.

Each element is decoded on its own, so one bad element is refused and the rest are read:
a value newsstore refuses (NaN, an unsupported ``$`` type, bytes that are not UTF-8, nesting
too deep for the decoder) costs only its element. What ends the array early (truncation,
a syntax error between elements, data after the closing ``]``) raises
:class:`~newsstore.InvalidRecordError` with the line, after the elements before it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import IO, Any

from ._ejson import ejson_hook, loads
from ._errors import InvalidRecordError
from ._records import Record, rejected, validate_obj

__all__ = ["read_json"]

_CHUNK = 1 << 20
# An element larger than this is refused rather than read into memory without end.
_MAX_RECORD = 128 << 20
# How much of the unreadable rest of an array a rejection keeps, to show what it was.
_RAW_KEPT = 1000
_WHITESPACE = " \t\r\n"


def read_json(fp: IO[bytes], source: str, context: dict[str, Any]) -> Iterator[Record]:
    """The records of a JSON array, or of one JSON object."""
    return _ArrayReader(fp, source, context).records()


class _ArrayReader:
    def __init__(self, fp: IO[bytes], source: str, context: dict[str, Any]) -> None:
        # Undecodable bytes become lone surrogates, so that only the elements holding them
        # are refused (see _bad_utf8) rather than everything from the first bad byte on.
        self.reader = io.TextIOWrapper(fp, encoding="utf-8-sig", errors="surrogateescape")
        self.source = source
        self.context = context
        self.buf = ""
        self.pos = 0
        self.line = 1
        self.eof = False
        # A value newsstore refuses is noted, not raised, so that the decoder still finds
        # the end of its element and only that element is refused.
        self.problems: list[str] = []
        self.decoder = json.JSONDecoder(
            object_hook=self._lenient_hook, parse_constant=self._lenient_constant
        )
        # Finds where an element with a raw control character in a string ends (which the
        # strict decoder refuses), so that only that element is refused.
        self.lax_decoder = json.JSONDecoder(
            object_hook=self._lenient_hook, parse_constant=self._lenient_constant, strict=False
        )

    def _lenient_hook(self, obj: dict[str, Any]) -> Any:
        try:
            return ejson_hook(obj)
        except ValueError as exc:
            self.problems.append(str(exc))
            return obj

    def _lenient_constant(self, name: str) -> Any:
        self.problems.append(f"{name} is not valid JSON")

    # -- the buffer ----------------------------------------------------------------------
    def fill(self) -> bool:
        """Read the next chunk; False at the end of the file."""
        if self.eof:
            return False
        chunk = self.reader.read(_CHUNK)
        if not chunk:
            self.eof = True
            return False
        self.buf = self.buf[self.pos :] + chunk
        self.pos = 0
        return True

    def can_grow(self) -> bool:
        """Read more for an element that runs past the buffer, up to a sane record size."""
        return len(self.buf) - self.pos < _MAX_RECORD and self.fill()

    def skip_ws(self) -> str:
        """Skip whitespace (counting lines); the next character, or "" at the end."""
        buf = self.buf
        while True:
            while self.pos < len(buf) and buf[self.pos] in _WHITESPACE:
                if buf[self.pos] == "\n":
                    self.line += 1
                self.pos += 1
            if self.pos < len(buf):
                return buf[self.pos]
            if not self.fill():
                return ""
            buf = self.buf

    def fail(self, message: str, line: int, index: int | None = None) -> InvalidRecordError:
        rest = self.buf[self.pos : self.pos + _RAW_KEPT]  # the start of what was not read
        return InvalidRecordError(message, source=self.source, line=line, index=index, raw=rest)

    # -- records -------------------------------------------------------------------------
    def records(self) -> Iterator[Record]:
        first = self.skip_ws()
        if first == "":
            raise InvalidRecordError("empty file: no JSON records", source=self.source, line=1)
        if first != "[":
            yield self.single()
            return
        self.pos += 1
        index = 0
        if self.skip_ws() == "]":
            self.end_of_array()
            return
        while True:
            yield self.element(index)
            index += 1
            ch = self.skip_ws()
            if ch == "]":
                self.end_of_array()
                return
            if ch != ",":
                problem = (
                    "truncated JSON: the array is not closed"
                    if ch == ""
                    else f"invalid JSON: expected ',' or ']' but found {ch!r}"
                )
                raise InvalidRecordError(problem, source=self.source, line=self.line, index=index)
            self.pos += 1
            self.skip_ws()

    def single(self) -> Record:
        """A single object: read whole (one record is small enough by definition)."""
        while self.fill():
            pass
        text = self.buf[self.pos :]
        bad = _bad_utf8(text)
        if bad is not None:
            return rejected(self.source, self.line, None, *bad)
        try:
            data = loads(text)
        except (ValueError, RecursionError) as exc:
            return rejected(self.source, self.line, None, text, f"not valid JSON: {exc}")
        return validate_obj(data, self.context, self.source, self.line, None, text)

    def end_of_array(self) -> None:
        self.pos += 1
        if self.skip_ws() != "":
            # Silently ignoring it would lose whatever follows (e.g. a second array).
            raise self.fail("invalid JSON: data after the closing ']' (not read)", self.line)

    def element(self, index: int) -> Record:
        start_line = self.line
        data, end = self.decode(index, start_line)
        text = self.buf[self.pos : end]
        self.line += text.count("\n")
        self.pos = end
        bad = _bad_utf8(text)
        if bad is not None:
            return rejected(self.source, start_line, index, *bad)
        if self.problems:
            return rejected(self.source, start_line, index, text, self.problems[0])
        return validate_obj(data, self.context, self.source, start_line, index, text)

    def decode(self, index: int, start_line: int) -> tuple[Any, int]:
        """The element at ``pos`` and where it ends, reading more as it needs."""
        while True:
            self.problems.clear()  # a retry after reading more starts the element afresh
            try:
                return self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if exc.msg == "Invalid control character at":
                    found = self.control_character(exc)
                    if found is not None:
                        return found
                if self.can_grow():
                    continue
                truncated = self.eof and (
                    exc.msg.startswith("Unterminated") or exc.pos >= len(self.buf.rstrip())
                )
                problem = "truncated JSON" if truncated else "invalid JSON"
                line = start_line + self.buf.count("\n", self.pos, exc.pos)
                raise self.fail(
                    f"{problem}: {exc.msg} (the rest of the array cannot be read)", line, index
                ) from None
            except RecursionError:
                # Too deep for the decoder: find where the element ends by its brackets, so
                # that only this element is refused and the rest of the array is read.
                end = _container_end(self.buf, self.pos)
                if end is None and self.can_grow():
                    continue
                if end is None:
                    raise self.fail(
                        "truncated JSON: an element nested too deeply is not closed"
                        " (the rest of the array cannot be read)",
                        start_line,
                        index,
                    ) from None
                self.problems.append("not valid JSON: nested too deeply")
                return None, end

    def control_character(self, exc: json.JSONDecodeError) -> tuple[Any, int] | None:
        """The element holding a raw control character in a string, refused (its value
        None) and where it ends; None when it does not end in the buffer."""
        try:
            _, end = self.lax_decoder.raw_decode(self.buf, self.pos)
        except json.JSONDecodeError:
            return None  # broken elsewhere too, or not all read yet
        self.problems.clear()
        char = self.buf[exc.pos]
        self.problems.append(
            f"invalid JSON: a raw control character {char!r} inside a string"
            f" (line {exc.lineno - self.buf.count(chr(10), 0, self.pos)} of the record);"
            f" write it escaped (\\u{ord(char):04x})"
        )
        return None, end


def _container_end(buf: str, pos: int) -> int | None:
    """The end of the JSON array or object starting at ``buf[pos]``, or None if not in buf."""
    depth = 0
    in_string = False
    i = pos
    while i < len(buf):
        ch = buf[i]
        if in_string:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def _bad_utf8(text: str) -> tuple[str, str] | None:
    """For text decoded with ``surrogateescape``: its readable form and why it is refused.

    Decoded UTF-8 never holds a surrogate (JSON ``\\ud800`` escapes are still six characters
    here), so one marks a byte that was not UTF-8.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        at = len(text[: exc.start].encode("utf-8", "surrogateescape"))
        readable = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        return readable, f"invalid UTF-8 at byte {at} of the record"
    return None
