"""Parse a page once, with bounds on size and depth, into an lxml tree."""

from __future__ import annotations

import logging
import re

from lxml import etree, html

from .encoding import decode_html

LOGGER = logging.getLogger(__name__)

# libxml2 (without `huge_tree`) already stops nesting at 256 levels, so a
# 100,000-deep DOM parses in microseconds into a bounded tree; the parser is
# built without `huge_tree` on purpose.
_PARSER = html.HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False,
                          default_doctype=False)
# lxml.html's own lookup picks an element class in a Python callback each time lxml makes a
# proxy for a node (~300,000 times for a hundred pages, about 5 ms a page inside
# trafilatura's passes). The C-level default lookup gives every element the same
# HtmlElement class: the form and input subclasses it skips are never used here.
_PARSER.set_element_class_lookup(etree.ElementDefaultClassLookup(
    element=html.HtmlElement, comment=html.HtmlComment, pi=html.HtmlProcessingInstruction,
    entity=html.HtmlEntity))
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CONTROL_BYTES = bytes([*range(0, 9), 11, 12, *range(14, 32)])


def _may_hold_controls(data: bytes | str) -> bool:
    """False when raw bytes hold no C0 control byte, so their text holds none either.

    The encodings pages use are ASCII supersets whose multi-byte sequences never use a byte
    below 0x20 (UTF-16 has NULs and is searched). Deleting bytes in C costs ~0.05 ms a page
    where the regular expression scans the decoded text in ~1.3 ms.
    """
    return isinstance(data, str) or len(data.translate(None, _CONTROL_BYTES)) != len(data)


def looks_binary(data: bytes | str) -> bool:
    """True for images, archives and other non-text input (many NULs or control bytes)."""
    sample = data[:2048]
    if isinstance(sample, str):
        sample = sample.encode("utf-8", "ignore")
    if not sample:
        return False
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 text has NULs by design
        return False
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return controls / len(sample) > 0.05


def truncate_tree(root: html.HtmlElement, max_elements: int) -> bool:
    """Cut the document after its first `max_elements` elements; True when it was cut.

    Extraction time grows faster than linearly with the number of elements (link-density
    tests per block), so a page of 100,000 tiny blocks is cut where a news page never is
    (they have a few thousand elements).
    """
    if root.xpath("count(//*)") <= max_elements:  # counted in C: the usual, cheap case
        return False
    last = None
    for count, el in enumerate(root.iter()):
        if count >= max_elements:
            last = el
            break
    if last is None:
        return False
    node = last
    while node is not None:
        parent = node.getparent()
        if parent is None:
            break
        # slice deletion: one call even for a hundred thousand siblings
        index = parent.index(node)
        del parent[index if node is last else index + 1:]
        node = parent
    LOGGER.info("tree cut at %d elements", max_elements)
    return True


def parse_html(data: bytes | str, charset: str | None, max_bytes: int) -> html.HtmlElement | None:
    """The page's root element, or None when there is no HTML to speak of."""
    if not data or looks_binary(data):
        return None
    if len(data) > max_bytes:
        LOGGER.info("page of %d bytes cut to %d", len(data), max_bytes)
        # cut before a tag so that a multi-byte character is never split
        cut = data.rfind("<", 0, max_bytes) if isinstance(data, str) else data.rfind(b"<", 0, max_bytes)
        data = data[: cut if cut > max_bytes // 2 else max_bytes]
    text = _XML_DECL.sub("", decode_html(data, charset), count=1)
    if _may_hold_controls(data):
        text = _CONTROL.sub("", text)
    if not text.strip():
        return None
    try:
        root = html.document_fromstring(text, parser=_PARSER)
    except (etree.ParserError, ValueError) as err:
        LOGGER.info("unparsable page: %s", err)
        return None
    if root is None or not isinstance(root, html.HtmlElement):
        return None
    if "<ruby" in text or "<RUBY" in text:
        inline_ruby(root)
    return root


def inline_ruby(root: html.HtmlElement) -> None:
    """Ruby annotations (furigana) as the inline text a browser without ruby shows:
    `<ruby>尹錫悦<rp>（</rp><rt>ユンソンニョル</rt><rp>）</rp></ruby>` → 尹錫悦（ユンソンニョル）.

    trafilatura does not know the tags: it breaks the paragraph around each name read in
    ruby and drops the reading. A reading without its <rp> parentheses gets them, or it
    would run into the word it reads.
    """
    for rt in root.iter("rt"):
        before = rt.getprevious()
        if (before is None or before.tag != "rp") and (rt.text or "").strip() and not len(rt):
            rt.text = f"（{rt.text.strip()}）"
    etree.strip_tags(root, "ruby", "rb", "rp", "rt", "rtc")


MAX_DEPTH = 256  # libxml2's nesting limit without XML_PARSE_HUGE


def hit_depth_limit() -> bool:
    """True when the last `parse_html` stopped nesting at `MAX_DEPTH` (text below is lost).

    libxml2 reports it in the parser's error log rather than raising; the caller turns it
    into a reason a person can read instead of a silently empty page.
    """
    return any(e.type_name == "ERR_RESOURCE_LIMIT" and "depth" in e.message
               for e in _PARSER.error_log)
