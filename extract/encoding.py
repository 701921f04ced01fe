"""Bytes to text: the HTTP charset, then `<meta charset>`, then detection; never a crash.

A wrong declaration is common (Latin-1 bytes served as UTF-8, UTF-8 served as
ISO-8859-1), so a declared charset is only believed when the bytes decode
cleanly under it.

Extraction and the crawler's link reader both decode pages with ``decode_page``, so the
links a crawl follows are read from the very text extraction sees. Labels, the byte order
mark and ``<meta>`` declarations are read with w3lib (WHATWG's label table: ISO-8859-1 and
ASCII are windows-1252, GB2312 is GB18030; UTF-7 is refused).
"""

from __future__ import annotations

import logging

from w3lib.encoding import html_body_declared_encoding, read_bom, resolve_encoding

LOGGER = logging.getLogger(__name__)


def codec_name(label: str | None) -> str | None:
    """Python's codec for a charset label, or None when the label is unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'")
    return resolve_encoding(label) if label else None


def sniff_meta_charset(data: bytes) -> str | None:
    """The codec a page declares in its first 4 KB (``<meta charset>``, ``<meta
    http-equiv=Content-Type>`` or an XML declaration), or None."""
    return html_body_declared_encoding(data)


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


def decode_page(data: bytes, charset: str | None = None) -> tuple[str, str]:
    """A page's text and the codec it was read with: the byte order mark; else UTF-8 when
    the bytes are (overwhelmingly) UTF-8 and no declared single-byte charset decodes them
    better; else ``charset`` (from the HTTP Content-Type), then ``<meta charset>``, when the
    bytes decode cleanly under it; else charset-normalizer's guess on pages of 2 KB or more,
    windows-1252 below that."""
    bom_codec, bom = read_bom(data)
    if bom_codec and bom:
        return data[len(bom):].decode(bom_codec, errors="replace"), bom_codec
    utf8 = _strict(data, "utf-8")
    if utf8 is None:
        utf8 = mostly_utf8(data)  # a handful of bad bytes do not make a page Latin-1
    for codec in (codec_name(charset), sniff_meta_charset(data)):
        if codec is None:
            continue
        if codec == "utf-8":
            if utf8 is not None:
                return utf8, "utf-8"
            continue  # declared UTF-8 but is not: fall through to detection
        text = _strict(data, codec)
        # Single-byte charsets accept any byte, so valid multi-byte UTF-8 with
        # non-ASCII characters is the stronger evidence of what the bytes are.
        if utf8 is not None and not utf8.isascii() and codec.startswith(("cp125", "iso8859")):
            return utf8, "utf-8"
        if text is not None:
            return text, codec
    if utf8 is not None:
        return utf8, "utf-8"
    # detectors guess wildly on a few hundred bytes; a short page is most likely windows-1252
    codec = (_detect(data) if len(data) >= _MIN_DETECT_BYTES else None) or "cp1252"
    return data.decode(codec, errors="replace"), codec


def decode_html(data: bytes | str, charset: str | None = None) -> str:
    """Decode a page's bytes to text (a str is returned as is): ``decode_page``'s text."""
    if isinstance(data, str):
        return data
    return decode_page(data, charset)[0]
