"""Canonical URLs: the key newsstore deduplicates snapshots on.

``canonical_url`` turns any spelling of a page's address into one string, so the
same article crawled as ``http://www.Example.com:80/a?utm_source=x#top`` and
``https://example.com/a`` is stored once. It is built on w3lib's
``canonicalize_url``; the rules, and who applies each one:

- surrounding whitespace (including the full-width space U+3000) is stripped [newsstore]
- scheme and host are lower-cased [w3lib]
- an IDN host is encoded to punycode (NFKC, then Python's IDNA 2003 codec) [w3lib]
- a non-ASCII path, query or fragment is percent-encoded as UTF-8 [w3lib]
- percent-encoding is normalised: upper-case hex, unreserved characters decoded
  (``%7e`` -> ``~``), everything else encoded (``中`` -> ``%E4%B8%AD``) [w3lib]
- dot segments are resolved (``/a/./b/../c`` -> ``/a/c``) [w3lib]
- an empty path becomes ``/`` [w3lib]
- query arguments are sorted by key then value; spaces are written ``+`` and a
  bare ``a`` becomes ``a=`` [w3lib]
- the ``;params`` of the last path segment are percent-normalised like the rest of the
  path (w3lib leaves them as they are) [newsstore]
- the fragment is dropped: it never reaches the server [w3lib]
- an empty query (``?``, ``?&``) is dropped [w3lib]
- only ``http`` and ``https`` URLs with a host are accepted; anything else
  (``javascript:``, ``data:``, ``mailto:``, ``ftp:``, relative or
  protocol-relative URLs, the empty string) raises ``InvalidURLError`` [newsstore]
- ``http`` and ``https`` are the same page: the key always says ``https`` [newsstore]
- user info (``user:pass@``) is dropped: a credential is not part of a page's identity;
  the spellings a store keeps (``url``, ``stored.urls``) lose it too
  (:func:`without_userinfo`), so a password in a crawled URL is never stored [newsstore]
- the default ports 80 and 443 are dropped, whichever of the two schemes was used,
  because the key no longer records which one it was; ports 0 and above 65535 are
  rejected [newsstore]
- one trailing dot on the host is dropped (``example.com.`` is the same name) [newsstore]
- a leading ``www.`` label is dropped, as long as what is left is a registrable domain
  or below one, by the ICANN section of the public suffix list (``publicsuffixlist``,
  which ships the list): ``www.example.com`` and ``www.www.example.co.uk`` lose it, while
  ``www.com``, ``www.co.uk`` and ``www.gov.cn`` keep it, being hosts of their own, not
  a spelling of ``com``. The ICANN section only: the private one (``github.io``,
  ``blogspot.com``) changes too often for keys to depend on it [newsstore]
- the host must then be an IPv6 literal or dot-separated labels of ``a-z 0-9 - _``
  (1-63 characters each, 253 in all); spaces, ``%`` escapes, empty labels and names
  IDNA cannot encode are rejected [newsstore]
- tracking parameters (``DEFAULT_TRACKING_PARAMS``, or the caller's list) are removed,
  names compared case-insensitively; if none is left the ``?`` goes too [newsstore]

Not normalised, on purpose: path case (paths are case-sensitive), a trailing ``/``
(``/news`` and ``/news/`` may be different pages), IPv4 spellings such as ``0x7f.1``,
and percent-escapes of non-UTF-8 bytes (kept as the raw bytes they encode).

Every function here is pure and total: for any ``str`` it returns a ``str`` or raises
``InvalidURLError``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection
from typing import Any
from urllib.parse import unquote_plus

from w3lib.url import canonicalize_url

from ._errors import InvalidURLError

__all__ = [
    "DEFAULT_TRACKING_PARAMS",
    "canonical_url",
    "host_of",
    "lookup_url",
    "reversed_host",
    "suffix_list_version",
    "url_prefix",
    "without_userinfo",
]

DEFAULT_TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        # A name ending in "*" is a prefix rule: "utm_*" drops utm_source, utm_medium, ...
        "utm_*",
        # Click identifiers of ad and analytics platforms (Facebook, Google, DoubleClick,
        # Bing, Yandex, Mailchimp, Instagram, HubSpot).
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "msclkid",
        "yclid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "_hsenc",
        "_hsmi",
        # Chinese platforms: Alibaba/CCTV "spm", WeChat share and scene markers.
        "spm",
        "from",
        "from_source",
        "share_from",
        "share_token",
        "scene",
        "isappinstalled",
        "wxshare_count",
        "sharer_sharetime",
        "sharer_shareid",
    }
)
"""Query parameters that say how a reader arrived, never which page they read.

Left out on purpose, because on some sites they select the content: ``id``, ``aid``,
``p``, ``page``, ``lang``, ``ref`` and ``timestamp`` (a timestamp can pick a version
of a live page or be part of a signed URL). ``from`` is in: on news pages it marks the
share channel (``from=timeline``, ``from=singlemessage``); pass your own list if a site
uses it as a paging offset.
"""

_SCHEMES = {"http://": 7, "https://": 8}
# Labels of a-z 0-9 - _ (underscores occur in real DNS names), 1-63 characters each.
# The character class excludes ".", so matching is linear.
_HOST_RE = re.compile(r"(?:[a-z0-9_-]{1,63}\.)*[a-z0-9_-]{1,63}")
_MAX_HOST_LENGTH = 253
_DEFAULT_PORTS = frozenset({"80", "443"})
# A URL w3lib returns unchanged: lower-case http(s), a lower-case host of letter-digit
# labels (no IDNA, no IP, no port, no user info), a path of unreserved characters and
# slashes without dot segments (no "/."), no params, query or fragment. Most crawled URLs
# are so; canonical_url then skips w3lib (a test proves the outputs equal on such URLs).
_PLAIN_URL = re.compile(
    r"https?://((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?)"
    r"(/[A-Za-z0-9._~/-]*)"
)
_MAX_PORT = 65535
# A bare host passed to reversed_host must not smuggle in a path, query or user info.
_NOT_IN_HOST = frozenset("/?#@\\")


@functools.lru_cache(maxsize=64)
def _tracking_rules(names: frozenset[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    """Split a tracking list into lower-cased exact names and prefixes (cached per list)."""
    exact = frozenset(n.lower() for n in names if not n.endswith("*"))
    prefixes = tuple(sorted(n[:-1].lower() for n in names if n.endswith("*")))
    return exact, prefixes


_DEFAULT_RULES = _tracking_rules(DEFAULT_TRACKING_PARAMS)


def _drop_tracking(query: str, exact: frozenset[str], prefixes: tuple[str, ...]) -> str:
    """Remove tracking fields from a query already canonicalised (and sorted) by w3lib."""
    kept = []
    for field in query.split("&"):
        key = field.partition("=")[0].lower()
        # w3lib leaves ASCII names unescaped, so decoding is needed only for names
        # outside ASCII (a caller may list those).
        if "%" in key or "+" in key:
            key = unquote_plus(key).lower()
        if key in exact or key.startswith(prefixes):
            continue
        kept.append(field)
    return "&".join(kept)


def _normalise_params(path: str) -> str:
    """Percent-normalise the ``;params`` of the last path segment, as w3lib does not.

    Without this ``/a;%7e`` and ``/a;~`` get different keys, while ``/a;%7e/b`` and
    ``/a;~/b`` (where the ``;`` is not in the last segment) do not. Canonicalising the
    params as an ordinary segment, behind a guard character so that ``..`` is no dot
    segment, applies w3lib's path rules to them. Params are rare, so the second call
    costs little overall.
    """
    semi = path.find(";", path.rfind("/"))
    out = canonicalize_url(f"http://h/_{path[semi + 1 :]}/")
    return f"{path[: semi + 1]}{out[len('http://h/_') : -1]}"


def _split(url: str, tracking_params: Collection[str] | None) -> tuple[str, str, str]:
    """Canonicalise ``url`` into (host, ":port" or "", path with params and query)."""
    text = url.strip()
    if not text:
        raise InvalidURLError("empty URL")
    try:
        out = canonicalize_url(text)
    except ValueError as exc:  # bad port or IPv6 literal; UnicodeError is a ValueError
        raise InvalidURLError(f"{url!r}: {exc}") from exc

    # w3lib's output is "scheme://netloc/path[;params][?query]": the scheme is
    # lower-cased, the path never empty, the fragment gone, and neither the netloc
    # nor the path holds a raw "?", so plain string slicing is enough from here.
    start = _SCHEMES.get(out[:8]) or _SCHEMES.get(out[:7])
    if start is None:
        raise InvalidURLError(f"not an absolute http(s) URL: {url!r}")
    slash = out.find("/", start)
    if slash == -1:  # pragma: no cover - w3lib always writes a path after a host
        slash = len(out)
    netloc = out[start:slash]
    rest = out[slash:] or "/"

    hostport = netloc.rpartition("@")[2]
    if hostport.startswith("["):
        close = hostport.find("]")
        host, port = hostport[: close + 1], hostport[close + 1 :].removeprefix(":")
        # w3lib checked and normalised the address; a zone ("%eth0") is link-local only.
        if close == -1 or "%" in host:
            raise InvalidURLError(f"invalid IPv6 host in {url!r}")
    else:
        host, _, port = hostport.partition(":")
        host = host.removesuffix(".")
        if len(host) > _MAX_HOST_LENGTH or not _HOST_RE.fullmatch(host):
            raise InvalidURLError(f"invalid host {host!r} in {url!r}")
        while host.startswith("www.") and not _is_public_suffix(host[4:]):
            host = host[4:]
    if port in _DEFAULT_PORTS:
        port = ""
    elif port:
        # w3lib has checked it is digits in 0-65535 and dropped leading zeros.
        if not 0 < int(port) <= _MAX_PORT:
            raise InvalidURLError(f"port out of range in {url!r}")
        port = ":" + port

    path, q, query = rest.partition("?")
    if path.find(";", path.rfind("/")) != -1:
        path = _normalise_params(path)
        rest = f"{path}{q}{query}"
    if q:
        exact, prefixes = (
            _DEFAULT_RULES
            if tracking_params is None
            else _tracking_rules(frozenset(tracking_params))
        )
        if exact or prefixes:
            query = _drop_tracking(query, exact, prefixes)
        rest = f"{path}?{query}" if query else path
    return host, port, rest


@functools.cache
def _suffix_list() -> Any:
    # Loaded on first use (~60 ms): only a host starting with "www." needs it.
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList(only_icann=True)


@functools.lru_cache(maxsize=4096)  # a crawl's hosts repeat
def _is_public_suffix(host: str) -> bool:
    """Whether ``host`` (canonical, punycode) is a public suffix: ``com``, ``co.uk``, or
    a top-level name the list does not know (its ``*`` rule), never a registrable domain."""
    return bool(_suffix_list().is_public(host))


def suffix_list_version() -> str:
    """The version of the public suffix list keys are taken with (it decides ``www.``)."""
    from importlib.metadata import version

    return version("publicsuffixlist")


def canonical_url(url: str, *, tracking_params: Collection[str] | None = None) -> str:
    """The dedup key of ``url``: its canonical ``https://`` form (rules in the module doc).

    ``tracking_params`` replaces ``DEFAULT_TRACKING_PARAMS``; a name ending in ``*``
    is a prefix rule, and an empty collection keeps every parameter. Idempotent:
    ``canonical_url(canonical_url(u)) == canonical_url(u)`` (with the same list).
    Raises ``InvalidURLError`` for anything that is not an absolute http(s) URL with
    a valid host.
    """
    plain = _PLAIN_URL.fullmatch(url)
    if plain is not None:
        host, path = plain[1], plain[2]
        if "/." not in path and "xn--" not in host and len(host) <= _MAX_HOST_LENGTH:
            while host.startswith("www.") and not _is_public_suffix(host[4:]):
                host = host[4:]
            return f"https://{host}{path}"
    host, port, rest = _split(url, tracking_params)
    return f"https://{host}{port}{rest}"


def url_prefix(url: str, *, tracking_params: Collection[str] | None = None) -> str:
    """Canonical form of ``url`` for "everything under this address" prefix lookups.

    Canonicalised exactly like ``canonical_url``, which appends nothing beyond a
    root ``/`` (``https://example.com`` -> ``https://example.com/``), so the key of
    every URL below it starts with the result. The one difference: a trailing ``?``
    is kept, restricting the prefix to that exact path with a query.

    It is a string prefix, not a path one: ``https://example.com/news`` also covers
    ``/newsletter``; write ``/news/`` for the directory alone. A query is kept only if
    the URL has one, and is canonicalised too (sorted, tracking removed), so it
    matches keys whose first parameters are the ones given.
    """
    host, port, rest = _split(url, tracking_params)
    # w3lib drops an empty query; a "#fragment" may follow the "?" and is ignored.
    if url.partition("#")[0].rstrip().endswith("?") and "?" not in rest:
        rest += "?"
    return f"https://{host}{port}{rest}"


# A scheme (RFC 3986: a letter, then letters, digits, "+", "-", ".") and "://".
_HAS_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def lookup_url(text: str) -> str:
    """A URL typed to look something up, with ``http://`` put in front when it has no
    scheme, as the Wayback Machine's CDX API reads ``example.com/news/1.html``.

    Only lookups take this (``get``, ``find --url``, ``history``, ``delete``); an imported
    record's URL must be absolute. Something with another scheme (``mailto:``,
    ``javascript:``) or user info before its first ``/`` is left as it is, so it is
    refused as before rather than read as a host.
    """
    stripped = text.strip()
    if not stripped or _HAS_SCHEME.match(stripped):
        return text
    if stripped.startswith("//"):  # protocol-relative
        return "http:" + stripped
    authority = re.split(r"[/?#]", stripped, maxsplit=1)[0]
    host, colon, port = authority.rpartition(":") if not authority.endswith("]") else ("", "", "")
    if "@" in authority or (colon and not port.isdigit() and not host.endswith("]")):
        return text  # "mailto:a@b", "javascript:x": a scheme of its own
    return "http://" + stripped


def _is_canonical_host(host: str) -> bool:
    """True if ``host`` is already a host as canonical_url writes it (cheap check)."""
    return (
        len(host) <= _MAX_HOST_LENGTH
        and _HOST_RE.fullmatch(host) is not None
        and not host.startswith("www.")
    )


def without_userinfo(url: str) -> str:
    """``url`` with any ``user:pass@`` taken out of its authority, otherwise as it was."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    at = rest.rfind("@", 0, end)
    return url if at < 0 else f"{scheme}://{rest[at + 1 :]}"


def host_of(url: str) -> str:
    """The host of ``url``'s canonical key: lower-case, punycode, no ``www.`` before a
    registrable domain, no port.

    An IPv6 host keeps its brackets (``[::1]``). Raises ``InvalidURLError`` as
    ``canonical_url`` does.
    """
    # Fast path for keys canonical_url produced, as the import path passes them:
    # "https://" + canonical host + "/" needs no second canonicalisation. The ASCII
    # test keeps out anything w3lib could still reject (surrogates).
    if url.startswith("https://") and url.isascii():
        slash = url.find("/", 8)
        if slash != -1 and _is_canonical_host(url[8:slash]):
            return url[8:slash]
    return _split(url, ())[0]


def reversed_host(host: str) -> str:
    """``host``'s labels reversed and dot-terminated, for indexed domain lookups.

    ``"news.example.com"`` -> ``"com.example.news."``, so a domain and all its
    subdomains share the prefix ``reversed_host("example.com")`` (``"com.example."``),
    and the final dot keeps ``"com.examples."`` out of it. The host is normalised
    as in ``canonical_url`` (case, punycode, trailing dot, ``www.``), so
    ``reversed_host("WWW.例子.测试")`` matches the keys stored for that site.
    Raises ``InvalidURLError`` for something that is not a bare host.
    """
    name = host.strip()
    if not _is_canonical_host(name):
        if (
            not name
            or not _NOT_IN_HOST.isdisjoint(name)
            or (":" in name and not (name.startswith("[") and name.endswith("]")))
        ):
            raise InvalidURLError(f"not a host name: {host!r}")
        try:
            name = _split(f"http://{name}/", ())[0]
        except InvalidURLError as exc:
            raise InvalidURLError(f"not a host name: {host!r}") from exc
    return ".".join(reversed(name.split("."))) + "."
