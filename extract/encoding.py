"""Bytes to text: the HTTP charset, then `<meta charset>`, then detection; never a crash.

A wrong declaration is common (Latin-1 bytes served as UTF-8, UTF-8 served as
ISO-8859-1), so a declared charset is only believed when the bytes decode
cleanly under it.
"""

from __future__ import annotations

import codecs
import logging
import re

LOGGER = logging.getLogger(__name__)

_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]{2,40})""", re.IGNORECASE
)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# WHATWG: browsers read these labels as windows-1252, a superset.
_ALIASES = {"iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "us-ascii": "cp1252",
            "ascii": "cp1252", "iso8859-1": "cp1252", "l1": "cp1252"}


def codec_name(label: str | None) -> str | None:
    """Python's codec for a charset label, or None when the label is unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def sniff_meta_charset(data: bytes) -> str | None:
    """The charset a page declares in its first few kilobytes."""
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii", "ignore") if match else None


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


# Detectors confuse the Latin code pages with each other on short samples; for the
# Western languages rassegna targets, windows-1252 is then the better reading.
_LATIN_LOOKALIKES = frozenset({"cp1250", "cp1252", "cp1254", "cp1257", "iso8859-1", "iso8859-2",
                               "iso8859-9", "iso8859-13", "iso8859-15", "iso8859-16", "latin-1",
                               "mac-latin2", "mac-roman", "cp850", "cp437", "ascii"})


_MIN_DETECT_BYTES = 2048


def _detect(data: bytes) -> str | None:
    """charset-normalizer's guess, on a sample so that huge pages stay cheap."""
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:65536]).best()
    except Exception:  # detection is best effort
        LOGGER.debug("charset detection failed", exc_info=True)
        return None
    codec = codec_name(best.encoding) if best else None
    return "cp1252" if codec in _LATIN_LOOKALIKES else codec


# valid multi-byte UTF-8 characters needed per invalid byte to read a page as UTF-8 anyway
_UTF8_MAJORITY = 10


def mostly_utf8(data: bytes) -> str | None:
    """The bytes as UTF-8 with replacement characters, when they are overwhelmingly UTF-8.

    A UTF-8 page with a few broken bytes (a truncated character, one Latin-1 byte pasted in)
    is still UTF-8: decoding it whole as a single-byte charset turns every other accented
    letter into mojibake. Latin-1 text, read as UTF-8, is invalid at nearly every accent.
    """
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")  # minus genuine U+FFFD
    if bad <= 0:
        return text
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))  # counted in C
    good = non_ascii - text.count("\ufffd")
    return text if good >= _UTF8_MAJORITY * bad else None


def decode_html(data: bytes | str, charset: str | None = None) -> str:
    """Decode a page's bytes to text (a str is returned as is)."""
    if isinstance(data, str):
        return data
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    utf8 = _strict(data, "utf-8")
    if utf8 is None:
        utf8 = mostly_utf8(data)  # a handful of bad bytes do not make a page Latin-1
    for label in (charset, sniff_meta_charset(data)):
        declared = codec_name(label)
        if declared is None:
            continue
        codec = declared
        if codec == "utf-8":
            if utf8 is not None:
                return utf8
            continue  # declared UTF-8 but is not: fall through to detection
        text = _strict(data, codec)
        # Single-byte charsets accept any byte, so valid multi-byte UTF-8 with
        # non-ASCII characters is the stronger evidence of what the bytes are.
        if utf8 is not None and not utf8.isascii() and codec.startswith(("cp125", "iso8859")):
            return utf8
        if text is not None:
            return text
    if utf8 is not None:
        return utf8
    # detectors guess wildly on a few hundred bytes; a short page is most likely windows-1252
    codec = (_detect(data) if len(data) >= _MIN_DETECT_BYTES else None) or "cp1252"
    return data.decode(codec, errors="replace")
