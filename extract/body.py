"""The main text: trafilatura (fast, then with its own fallbacks), then readability-lxml.

trafilatura's fallback comparison (readability + jusText inside trafilatura) costs about
a third of its time and, measured on the corpus, only changes the result when its own
extraction comes out short; so it runs in `fast` mode first and again in full only then.
"Short" is measured against the page itself too: the fast pass may pick a teaser, a login
box or a newsletter form of a few hundred characters next to a much longer article.
"""

from __future__ import annotations

import json
import logging
import os
import re
import unicodedata

import trafilatura
from lxml import etree
from lxml import html as lxml_html
from lxml.html import HtmlElement

from .boilerplate import is_boilerplate
from .settings import Settings

LOGGER = logging.getLogger(__name__)


def _trafilatura_lines(tree: HtmlElement, url: str | None, settings: Settings, *,
                       fast: bool, recall: bool = False, precise: bool = True) -> list[str]:
    try:
        doc = trafilatura.bare_extraction(
            tree, url=url, with_metadata=False, include_comments=False, fast=fast,
            include_tables=settings.include_tables,
            favor_precision=settings.favor_precision and precise and not recall, favor_recall=recall)
    except Exception:  # trafilatura is robust, but a page may still break it
        LOGGER.warning("trafilatura failed on %s", url, exc_info=True)
        return []
    text = getattr(doc, "text", None) if doc is not None else None
    text = text or ""
    if not unicodedata.is_normalized("NFC", text):  # extract() does this, bare_extraction not
        text = unicodedata.normalize("NFC", text)
    return [line for line in text.splitlines() if line.strip()]


def _readability_lines(tree: HtmlElement) -> list[str]:
    try:
        from readability import Document

        summary = Document(lxml_html.tostring(tree, encoding="unicode")).summary(html_partial=True)
        root = lxml_html.fragment_fromstring(summary, create_parent="div")
    except Exception:  # optional fallback: never fatal
        LOGGER.debug("readability failed", exc_info=True)
        return []
    lines = []
    for el in root.iter("p", "h2", "h3", "h4", "li", "blockquote", "pre"):
        text = " ".join(el.text_content().split())
        if text and el.getparent() is not None and el.getparent().tag not in ("li", "blockquote"):
            lines.append(text)
    return lines


def _size(lines: list[str]) -> int:
    return sum(map(len, lines))


# a paragraph this long is prose, not a caption, a byline or a button
_PROSE_CHARS = 80
# selected in C: the prose test costs under a millisecond on a news page
_PROSE = etree.XPath(
    f"//p[string-length(normalize-space(.)) >= {_PROSE_CHARS}][not(ancestor::footer or "
    "ancestor::nav or ancestor::aside or ancestor::header or ancestor::form)]")
_ARTICLE_BODY = re.compile(r'"articleBody"\s*:\s*"')
_JSON = json.JSONDecoder()
_TAG = re.compile(r"<[^>]*>")
# the fast pass is doubted when it returns less than this share of the page's own text
SUSPECT_SHARE = 0.5


def _json_ld_body_chars(tree: HtmlElement) -> int:
    """Length of the longest JSON-LD `articleBody`, tags stripped (0 when there is none)."""
    best = 0
    for script in tree.iter("script"):  # iter() filters tags in C: cheaper than an XPath
        if "ld+json" not in (script.get("type") or ""):
            continue  # before .text: inline scripts can be large
        source = script.text or ""
        for match in _ARTICLE_BODY.finditer(source):
            try:  # the C decoder reads the string literal; a regex over it is slow
                body, _ = _JSON.raw_decode(source, match.end() - 1)
            except ValueError:
                continue
            if isinstance(body, str):
                best = max(best, len(" ".join(_TAG.sub(" ", body).split())))
    return best


Prose = list[tuple[HtmlElement, str]]


def prose_paragraphs(tree: HtmlElement) -> Prose:
    """The page's prose paragraphs outside headers, footers, menus and forms, with their text."""
    return [(p, _norm(p.text_content())) for p in _PROSE(tree)]


def page_text_chars(tree: HtmlElement, prose: Prose | None = None) -> int:
    """How much article text the page visibly holds: its prose paragraphs or its JSON-LD
    articleBody, whichever is longer. A cheap yardstick for the extraction's length."""
    prose = prose_paragraphs(tree) if prose is None else prose
    return max(sum(len(text) for _, text in prose), _json_ld_body_chars(tree))


_BLOCKS = ("p", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre")
# never part of a continuation's text: pull quotes, captions, embedded chrome
_NOT_TEXT = frozenset({"aside", "figure", "figcaption", "nav", "form", "footer", "header",
                       "script", "style", "noscript", "button", "select", "iframe"})


# how far up from the body container its continuation is looked for
_CONTINUATION_LEVELS = 6
_same_class_paths: dict[str, etree.XPath] = {}


def _same_class(scope: HtmlElement, tag: str, cls: str) -> list[HtmlElement]:
    """Elements under `scope` with this tag and exactly this class, in document order."""
    if not tag.isalnum():
        return []
    path = _same_class_paths.get(tag)
    if path is None:
        path = _same_class_paths[tag] = etree.XPath(f".//{tag}[@class=$cls]")
    return path(scope, cls=cls)


def _norm(text: str) -> str:
    return " ".join(text.split())


def _block_lines(container: HtmlElement) -> list[str]:
    """The text blocks of a container, as trafilatura writes them (list items with "- ")."""
    lines = []
    for el in container.iter(_BLOCKS):
        inside = list(el.iterancestors())
        inside = inside[: inside.index(container)] if container in inside else inside
        if any(a.tag in _NOT_TEXT or a.tag in _BLOCKS for a in inside):
            continue  # nested in another block (counted there) or in chrome
        text = _norm(el.text_content())
        if text:
            lines.append(f"- {text}" if el.tag == "li" else text)
    return lines


def _link_share(container: HtmlElement) -> float:
    text = len(_norm(container.text_content())) or 1
    return sum(len(_norm(a.text_content())) for a in container.iter("a")) / text


def continuation(tree: HtmlElement, lines: list[str], prose: Prose | None = None) -> list[str]:
    """Lines of the article's continuation in later containers of the same kind.

    Pages split the body around an aside or an ad into sibling containers of one class
    (`<div class=body>part 1</div><aside/><div class=body>part 2</div>`); trafilatura keeps
    the first. The container of the extraction's paragraphs is found by their text; later
    elements with its tag and class that hold prose not yet extracted are its continuation.
    """
    extracted = {_norm(line) for line in lines if len(line) >= _PROSE_CHARS}
    if len(extracted) < 2:
        return []
    prose = prose_paragraphs(tree) if prose is None else prose
    container = next((p.getparent() for p, text in prose if text in extracted), None)
    if container is None:
        return []
    cls = container.get("class")
    if not cls:
        return []
    held = sum(1 for p, text in prose if text in extracted and p.getparent() is container)
    if held < 2:  # a wrapper of one paragraph is no body container
        return []
    scope: HtmlElement = container
    for _ in range(_CONTINUATION_LEVELS):
        parent = scope.getparent()
        scope = parent if parent is not None else scope
    same = _same_class(scope, container.tag, cls)
    later = [el for el in same[same.index(container) + 1:]
             if el.tag == container.tag and container not in el.iterancestors()]
    added: list[str] = []
    for other in later:
        texts = [text for text in (_norm(p.text_content()) for p in other.iter("p"))
                 if len(text) >= _PROSE_CHARS]
        taken = sum(len(text) for text in texts if text in extracted)
        if not texts or taken * 2 >= sum(map(len, texts)):
            continue  # nothing to add, or trafilatura took it already
        if _link_share(other) > 0.3 or any(a.tag in _NOT_TEXT for a in other.iterancestors()):
            continue
        added.extend(line for line in _block_lines(other) if _norm(line) not in extracted)
    return added


# a paragraph that is one link (a "read more" teaser) or nothing but links is no text to restore
_ONE_LINK_SHARE = 0.5
_ALL_LINKS_SHARE = 0.9
_NOT_PROSE = ("script", "style", "img", "picture", "video", "iframe", "svg", "figure")
_MARKUP = re.compile(r"&(?:amp;)*[lg]t;|</?[a-z]+[\s>/]")


def _hidden(el: HtmlElement) -> bool:
    style = (el.get("style") or "").replace(" ", "").lower()
    return (el.get("hidden") is not None or el.get("aria-hidden") == "true"
            or "display:none" in style or "visibility:hidden" in style)


def _restorable(p: HtmlElement, text: str, scope: HtmlElement) -> bool:
    """A dropped paragraph is text, not a teaser link, chrome or hidden markup."""
    for ancestor in p.iterancestors():
        if ancestor is scope:
            break
        if ancestor.tag in _NOT_TEXT or _hidden(ancestor):
            return False
    if _hidden(p) or next(p.iter(_NOT_PROSE), None) is not None:
        return False  # code, or a picture whose text is its caption
    if _MARKUP.search(text):
        return False  # escaped HTML a CMS left in the page
    links = [len(_norm(a.text_content())) for a in p.iter("a")]
    share = sum(links) / len(text)
    return not ((len(links) == 1 and share >= _ONE_LINK_SHARE) or share >= _ALL_LINKS_SHARE)


def _common_ancestor(elements: list[HtmlElement]) -> HtmlElement | None:
    chain = list(elements[0].iterancestors())
    for el in elements[1:]:
        ancestors = set(el.iterancestors())
        chain = [a for a in chain if a in ancestors]
    return chain[0] if chain else None


_NOT_WORD = re.compile(r"\W+")


def _key(text: str) -> str:
    """Letters and digits only: trafilatura and text_content() differ in spaces around tags."""
    return _NOT_WORD.sub("", text).casefold()


def _cut_from(line: str, key: str) -> bool:
    """True when `line` is `key` with a piece cut out of its middle (a link precision dropped)."""
    if not 20 <= len(line) < len(key):
        return False
    head = len(os.path.commonprefix([line, key]))
    tail = len(os.path.commonprefix([line[::-1], key[::-1]]))
    return head >= 10 and tail >= 10 and head + tail >= len(line)


# a line that long is one paragraph's start, not a phrase any paragraph could begin with
_SAME_START = 40

# blocks libxml2 leaves nested in a <p> (it does not know HTML5's section, aside, figure):
# a banner or a "trending" box inside a paragraph is not its text
_BLOCK_INSIDE = frozenset({
    "div", "section", "article", "aside", "figure", "figcaption", "h1", "h2", "h3", "h4", "h5",
    "h6", "ul", "ol", "table", "form", "nav", "header", "footer", "script", "style", "noscript",
    "iframe", "button", "select", "svg", "template"})


def _inline_text(el: HtmlElement) -> str:
    """The element's text without the blocks nested in it (their tails kept)."""
    if not any(d.tag in _BLOCK_INSIDE for d in el.iterdescendants()):
        return _norm(el.text_content())
    parts = [el.text or ""]

    def walk(node: HtmlElement) -> None:
        for child in node:
            if child.tag not in _BLOCK_INSIDE:
                parts.append(child.text or "")
                walk(child)
            parts.append(child.tail or "")

    walk(el)
    return _norm("".join(parts))


def _cut_short(index: int, key: str, keys: list[str]) -> bool:
    """True when line `index` is the start of this paragraph and the rest is nowhere in the
    extraction (cut off at an inline element), rather than on the next lines (a <br>)."""
    line = keys[index]
    if len(line) < _SAME_START or len(key) < len(line) + 10 or not key.startswith(line):
        return False
    rest = key[len(line):][:_SAME_START]
    return not any(rest in other for other in keys[index + 1:])


def _line_of(key: str, keys: list[str]) -> int | None:
    """The extracted line holding this paragraph (whole, split at a <br>, or cut), if any."""
    for index, line in enumerate(keys):
        if line and ((len(key) >= 20 and key in line) or (len(line) >= 20 and line in key)
                     or _cut_from(line, key)):
            return index
    return None


_HEADINGS = ("h2", "h3", "h4", "h5", "h6")
# a "Read also:" label precision dropped stays dropped (cleanup would take the next line with it)
_CHROME_CHARS = 220
# the body's paragraphs and the sub-headings among them, in document order
_PARAGRAPHS_AND_HEADINGS = etree.XPath(
    ".//p[@class=$cls] | " + " | ".join(f".//{tag}" for tag in _HEADINGS))


def same_kind_paragraphs(tree: HtmlElement, lines: list[str], prose: Prose) -> list[str]:
    """The lines with the paragraphs precision mode dropped from the body put back in place.

    trafilatura's precision mode drops a paragraph of the article when much of it is links
    (a list of places, a Q&A answer citing sources), cuts a link out of one or ends one at an
    empty inline element, and sometimes drops the sub-headings. The body's paragraphs are
    found by their text; a dropped `<p>` of the same class within their common ancestor (of
    no class: a sibling), or a heading beside them, that lies between two of them is the
    body's too, and a paragraph the extraction holds only in part is put back whole.
    """
    keys = [_key(line) for line in lines]
    position = {key: index for index, key in enumerate(keys)}
    matched = [p for p, text in prose if _key(text) in position]
    if len(matched) < 2:
        return lines
    classes: dict[str | None, list[HtmlElement]] = {}
    for p in matched:
        classes.setdefault(p.get("class") or None, []).append(p)
    cls, kin = max(classes.items(), key=lambda item: len(item[1]))
    if len(kin) < 2:
        return lines
    if cls:
        scope = _common_ancestor(kin)
        if scope is None:
            return lines
        candidates = _PARAGRAPHS_AND_HEADINGS(scope, cls=cls)
    else:  # classless paragraphs: only the siblings of the body's own
        if len({p.getparent() for p in kin}) != 1:
            return lines
        scope = kin[0].getparent()
        candidates = [el for el in scope.iterchildren("p", *_HEADINGS)
                      if el.tag != "p" or not el.get("class")]
    parents = {p.getparent() for p in kin}  # a sub-heading stands beside the paragraphs
    inserts: dict[int, list[str]] = {}
    replaced: dict[int, str] = {}
    last = -1  # the line of the latest body paragraph met in document order
    # dropped since then (text, is a heading): restored once a body paragraph follows
    pending: list[tuple[str, bool]] = []
    for p in candidates:
        text = _inline_text(p)
        key = _key(text)
        if not key:
            continue
        index = position.get(key)
        if index is None:
            index = _line_of(key, keys)
            if (index is not None and (_cut_from(keys[index], key) or _cut_short(index, key, keys))
                    and _restorable(p, text, scope)):
                replaced[index] = text  # the paragraph whole, with what precision cut
        if index is not None:
            if last >= 0 and pending:
                inserts.setdefault(last, []).extend(dropped for dropped, _ in pending)
            last, pending = max(last, index), []
        elif _restorable(p, text, scope) and not is_boilerplate(text, _CHROME_CHARS):
            heading = p.tag != "p"
            if heading and p.getparent() not in parents:
                continue  # the headline of a card, a gallery or a podcast box, not of the text
            if pending and pending[-1][1]:
                pending.pop()  # a heading followed by another heading heads no text
            pending.append((text, heading))
    if not inserts and not replaced:
        return lines
    out = []
    for index, line in enumerate(lines):
        out.append(replaced.get(index, line))
        out.extend(inserts.get(index, []))
    return out


# a list item is a link when its links hold this share of its text (a kicker may precede it)
_LINK_ITEM_SHARE = 0.5


# ... and a headline's length at most: a long item linking its source is a point of the text
_LINK_ITEM_CHARS = 200


def _link_item(item: HtmlElement) -> bool:
    """A headline linking elsewhere, perhaps with a kicker ("Analysis: <a>…</a>")."""
    text = len(_key(item.text_content()))
    links = sum(len(_key(a.text_content())) for a in item.iter("a"))
    return 0 < text <= _LINK_ITEM_CHARS and links >= _LINK_ITEM_SHARE * text


def without_link_lists(tree: HtmlElement, lines: list[str]) -> list[str]:
    """The lines without lists whose every item is a link: "more on this", "most read".

    A list of headlines linking elsewhere ends many articles inside the body container,
    where trafilatura keeps it; a list of the article's own points is text, links or not.
    """
    listed = {_key(line[2:]) for line in lines if line.startswith("- ")}
    if not listed:
        return lines
    drop: set[str] = set()
    for parent in {li.getparent() for li in tree.iter("li")
                   if _key(li.text_content()) in listed}:
        items = [child for child in parent if child.tag == "li"]
        if len(items) >= 2 and all(_link_item(item) for item in items):
            drop.update(_key(item.text_content()) for item in items)
    if not drop:
        return lines
    return [line for line in lines if not (line.startswith("- ") and _key(line[2:]) in drop)]


def extract_body(tree: HtmlElement, url: str | None, settings: Settings) -> list[str]:
    """The article's text blocks, one per line, before rassegna's own cleanup."""
    prose = prose_paragraphs(tree)
    lines = _best_extraction(tree, url, settings, prose)
    if settings.favor_precision:
        lines = same_kind_paragraphs(tree, lines, prose)
    return without_link_lists(tree, lines + continuation(tree, lines, prose))


def _best_extraction(tree: HtmlElement, url: str | None, settings: Settings,
                     prose: Prose) -> list[str]:
    """trafilatura fast, then in full and plain modes when short, then readability-lxml."""
    lines = _trafilatura_lines(tree, url, settings, fast=True)
    if not settings.fallbacks:
        return lines
    expected = page_text_chars(tree, prose)
    if _size(lines) >= max(settings.min_text_chars, SUSPECT_SHARE * expected):
        return lines
    if _size(lines) < settings.min_text_chars:
        # the full pass's own fallbacks help a short extraction; a long teaser they keep
        full = _trafilatura_lines(tree, url, settings, fast=False)
        if _size(full) > _size(lines):
            lines = full
    if settings.favor_precision and _size(lines) < SUSPECT_SHARE * expected:
        # precision mode's extra pruning (ids and classes saying "hidden", "teaser"…) can
        # cut the article to its first paragraph; the plain mode is tried, within reason
        loose = _trafilatura_lines(tree, url, settings, fast=False, recall=False, precise=False)
        if _size(lines) < _size(loose) <= 1.5 * expected:
            lines = loose
    if _size(lines) >= settings.failed_text_chars:
        return lines
    # a real failure: a short news brief is better served by precision than by more text
    fallbacks = (
        lambda: _trafilatura_lines(tree, url, settings, fast=False, recall=True),
        lambda: _readability_lines(tree),
    )
    for fallback in fallbacks:
        candidate = fallback()
        if _size(candidate) > _size(lines):
            lines = candidate
        if _size(lines) >= settings.failed_text_chars:
            break
    return lines
