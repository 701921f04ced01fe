"""Walls served instead of an article: consent walls and bot challenges.

A *consent wall* is a page that asks the reader to accept cookies and tracking (or, on a
"pay or OK" wall, to accept or subscribe) and shows no article text. A *bot challenge* is a
page that asks the browser to prove it is human ("Just a moment…", Cloudflare's
challenge-platform scripts, a `cf-mitigated: challenge` header). Neither is an article and
neither may vanish as an ordinary non-article: the crawler records each as a failure whose
error starts with `consent wall` or `bot challenge`, and nothing tries to get around them.

A page is only ever a wall when it has next to no other text: an article with a cookie banner
(or wrapped in one) keeps its article text and stays an article. The checks read the title,
the body's lines that extraction found anyway, and — only on a page whose text is nearly
empty — a bounded slice of its visible text and its scripts; on an article of 400 words or
more they cost a comparison of its word count.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from lxml.html import HtmlElement

from .classify import url_kind
from .record import Article

CONSENT_WALL = "consent wall"
BOT_CHALLENGE = "bot challenge"

# A page with this many words of text besides the wall's own is not a wall (the words an
# article must have to be one at all: classify.PLAINLY_EMPTY).
OTHER_WORDS_MAX = 25
# A challenge page says little besides its own few sentences.
CHALLENGE_MAX_WORDS = 100
CHALLENGE_LINE_MAX_CHARS = 200
# Walls are short; a longer text is looked at no further.
WALL_MAX_WORDS = 400
# A consent line longer than this is prose (an article about cookie law), not a dialog.
CONSENT_LINE_MAX_CHARS = 400
# Below this many characters of extracted text the page's visible text is read (bounded).
NEARLY_EMPTY_CHARS = 80
VISIBLE_TEXT_MAX_CHARS = 3000
VISIBLE_MAX_ELEMENTS = 800
# Below this many words a page's scripts are looked at for a challenge platform.
NEARLY_EMPTY_WORDS = 10

_I = re.IGNORECASE

# --- consent walls -------------------------------------------------------------------------

# What a consent dialog is about, in it/en/fr/de/es: cookies and consent themselves ...
_CONSENT_TOPIC = re.compile(
    r"\bcookies?\b|\btrack(?:ing|er)\b|\bconsent\w*|\bconsenso\b|einwillig\w*|zustimm\w*|"
    r"datenschutz-?einstellungen|privacy[\s-]+(?:settings|center|centre)|\bgdpr\b|\bdsgvo\b|"
    r"\brgpd\b|\biab\b|\btcf\b|\bpur[\s-]+abo\b", _I)
# ... and what such a dialog also speaks of (a line about these is not article text either).
_CONSENT_CONTEXT = re.compile(
    r"datenschutz\w*|\bprivacy\b|confidentialit|privacidad|dati\s+personali|personal\s+data|"
    r"données\s+personnelles|datos\s+personales|personenbezogene\w*\s+daten|\bpartner\w*|"
    r"partenaires|\bsocios\b|\bwerb\w*|pubblicit\w*|publicit\w*|advertis\w*|\bads\b|annunci|"
    r"\bvendor|fornitori|anbieter|proveedores|\bpur\b|abbona\w*|subscri\w*|abonn\w*|\babo\b|"
    r"suscr[ií]\w*", _I)
# A choice the dialog asks for.
_CHOICE = re.compile(
    r"\baccept\w*|\bagree\b|akzeptier\w*|zustimm\w*|einwillig\w*|einverstanden|\baccett\w*|"
    r"acconsent\w*|accepter|acceptez|j['’]accepte|\bconsentir|\bacept\w*|\breject\w*|"
    r"\brefuse[rz]?\b|ablehnen|\brifiut\w*|rechaz\w*|\bok\b|continu\w*\s+(?:with|con|avec)\s+"
    r"|weiter\s+mit\s+werbung|mit\s+werbung\s+(?:lesen|weiter|nutzen|besuchen)", _I)
# The site speaking about its own cookies, or the choice written out as a button label.
_PROMPT = re.compile(
    r"\b(?:use[sd]?|utilizz\w+|usa|usano|usiamo|utilis\w+|verwende\w*|nutze?n?|setze?n?|"
    r"utiliza\w*|usamos|usan|emplea\w*)\s+(?:\w+\s+){0,3}?cookies?\b|"
    # "accept … or subscribe": a pay-or-OK wall
    r"\b(?:accett|accept|akzeptier|zustimm|einwillig|acept)\w*\b.{0,120}?"
    r"\b(?:oppure|or|ou|oder|o)\b.{0,60}?\b(?:abbona|subscri|abonn|abo\b|pur-abo|suscri)|"
    r"utilizziamo|usiamo|we\s+(?:and\s+our\s+partners\s+)?(?:use|store|process)|"
    r"nous\s+(?:et\s+nos\s+partenaires\s+)?(?:utilisons|stockons)|"
    r"wir\s+(?:und\s+unsere\s+partner\s+)?(?:verwenden|nutzen|setzen|verarbeiten|speichern)|"
    r"utilizamos|usamos|questo\s+sito(?:\s+web)?\s+(?:utilizza|usa)|this\s+(?:site|website)\s+uses|"
    r"ce\s+site\s+utilise|diese\s+(?:website|webseite|seite)\s+(?:verwendet|nutzt)|"
    r"este\s+(?:sitio|sitio\s+web|portal)\s+(?:utiliza|usa)|cliccando|by\s+clicking|"
    r"en\s+cliquant|durch\s+(?:klicken|anklicken)|al\s+hacer\s+clic|pulsando|"
    r"(?:accetta|accept|accepter|akzeptieren|aceptar)\s+(?:tutt[io]|all|tout|alle|todas?)|"
    r"(?:tutto|alle|tout|todo)\s+(?:accettare|akzeptieren|accepter|aceptar)|"
    r"(?:accetta|accept|accepter|akzeptieren|aceptar|zustimmen|einwilligen|agree)\s+(?:e|and|et|und|y)\s+"
    r"(?:continua|continue|continuer|weiter|continuar)", _I)
# A line of a consent dialog speaks of one of these (one regex, one pass).
_CONSENT_WORDS = re.compile(
    f"{_CONSENT_TOPIC.pattern}|{_CONSENT_CONTEXT.pattern}|{_CHOICE.pattern}", _I)
# Titles of pages that are only a consent dialog (perhaps with the site after a bar).
_CONSENT_TITLE = re.compile(
    r"^(?:before\s+you\s+continue(?:\s+to\s+\S.{0,40})?|bevor\s+sie\s+(?:fortfahren|weiterlesen)|"
    r"prima\s+di\s+continuare|avant\s+de\s+continuer|antes\s+de\s+continuar|"
    r"(?:cookie|privacy|consent|datenschutz|confidentialité|privacidad)s?[\s-]*"
    r"(?:settings|preferences|consent|einstellungen|paramètres|configuración|center|centre)|"
    r"(?:impostazioni|gestione)\s+(?:della\s+)?(?:privacy|cookie)|zustimmung|einwilligung|"
    r"consentement|consenso|consentimiento|we\s+value\s+your\s+privacy)"
    r"(?:\s*[|–—:-]\s*.{0,60})?$", _I)

# --- bot challenges ------------------------------------------------------------------------

# The whole title of a challenge page (perhaps with the site after a bar).
_CHALLENGE_TITLE = re.compile(
    r"^(?:just\s+a\s+moment|un\s+(?:instant|momento)|einen\s+moment|"
    r"attention\s+required!?\s*\|\s*cloudflare|checking\s+your\s+browser|please\s+wait|"
    r"ddos-guard|security\s+check|verif(?:y|ying)\s+(?:(?:that\s+)?you\s+are\s+)?(?:a\s+)?human|"
    r"are\s+you\s+a\s+robot\??|human\s+verification|bot\s+verification|"
    r"pardon\s+our\s+interruption)(?:\s*(?:\.{3}|…|!|\.))?"
    r"(?:\s*[|–—-]\s*.{0,60}|\s+before\s+accessing\b.{0,80})?$", _I)
_CHALLENGE_TEXT = re.compile(
    r"verif(?:y|ying)\s+(?:that\s+)?you\s+are\s+(?:a\s+)?human|checking\s+(?:if\s+the\s+site\s+"
    r"connection\s+is\s+secure|your\s+browser)|needs\s+to\s+review\s+the\s+security\s+of\s+your\s+"
    r"connection|enable\s+javascript\s+and\s+cookies\s+to\s+continue|"
    r"please\s+(?:complete|solve)\s+the\s+(?:security\s+check|captcha)|press\s*&\s*hold|"
    r"are\s+you\s+a\s+robot|we\s+need\s+to\s+make\s+sure\s+you['’]re\s+not\s+a\s+robot|"
    r"vérification\s+de\s+sécurité|überprüfung\s+ihres\s+browsers|verifica\s+di\s+sicurezza|"
    r"verificación\s+de\s+seguridad|ddos\s+protection\s+by", _I)
# Words one of which a challenge's text holds, looked for (in C) before the regex runs.
_CHALLENGE_HINTS = ("human", "browser", "javascript", "robot", "captcha", "security", "hold",
                    "sécurité", "sicurezza", "seguridad", "überprüfung", "ddos")
# Scripts and markup of the usual challenge platforms (Cloudflare, DataDome, PerimeterX,
# Imperva, AWS WAF, DDoS-Guard, Sucuri).
CHALLENGE_MARKERS = (
    "/cdn-cgi/challenge-platform/", "_cf_chl_opt", "cf-chl-", "cf_chl_", "cf-browser-verification",
    "captcha-delivery.com", "px-captcha", "_incapsula_resource", "awswaf", "gokuprops",
    "ddos-guard", "sucuri_cloudproxy", "challenges.cloudflare.com/turnstile",
)
# Response headers that say the answer is a challenge.
CHALLENGE_HEADERS = {"cf-mitigated": "challenge", "x-vercel-mitigated": "challenge"}
# Statuses a challenge page is served with (one answered 200 is caught when small, or by
# extraction).
CHALLENGE_STATUSES = frozenset({403, 429, 503})
_CHALLENGE_BODY_BYTES = 256 * 1024
# A challenge answered 200 is a small page: only pages this small are read, titles near the top.
_SMALL_ANSWER_BYTES = 64 * 1024
_TITLE_BYTES = 4096
_CHALLENGE_TITLE_BYTES = re.compile(rb"<title[^>]*>\s*([^<]{0,120})", _I)


@dataclass(frozen=True)
class Wall:
    """A wall served instead of the article: its kind and why it was recognised."""

    kind: str  # CONSENT_WALL or BOT_CHALLENGE
    reason: str

    @property
    def message(self) -> str:
        """The failure's error: starts with the kind (`consent wall: …`)."""
        return f"{self.kind}: {self.reason}"


def wall_kind(error: str | None) -> str | None:
    """The wall a failure's error names (`consent wall` or `bot challenge`), else None."""
    if error:
        for kind in (CONSENT_WALL, BOT_CHALLENGE):
            if error.startswith(kind):
                return kind
    return None


def mark_wall(record: Article, tree: HtmlElement, lines: list[str]) -> None:
    """Make `record` a non-article whose `problem` names the wall, when the page is one."""
    wall = find_wall(tree, lines, record.word_count,
                     legal_page=url_kind(record.url) == "legal")
    if wall is not None:
        record.is_article, record.is_article_reason = False, wall.kind
        record.problem = wall.message


def find_wall(tree: HtmlElement, lines: list[str], words: int,
              legal_page: bool = False) -> Wall | None:
    """The wall this page is, if it is one.

    `lines` are the body's lines before boilerplate was dropped (a wall's text is what
    boilerplate rules drop), `words` the clean text's word count, `legal_page` true for a
    privacy or cookie policy, which speaks of cookies at length and is no wall.
    """
    if words >= WALL_MAX_WORDS:
        return None
    title_el = tree.find(".//title")
    title = " ".join(title_el.text_content().split()) if title_el is not None else None
    if sum(map(len, lines)) < NEARLY_EMPTY_CHARS:
        lines = lines + visible_lines(tree)
    challenge = _challenge(tree, title, lines, words)
    if challenge is not None:
        return challenge
    if legal_page:
        return None
    return _consent(title, lines)


def _challenge(tree: HtmlElement, title: str | None, lines: list[str], words: int) -> Wall | None:
    if words >= CHALLENGE_MAX_WORDS:
        return None
    if title and _CHALLENGE_TITLE.match(title.strip()):
        return Wall(BOT_CHALLENGE, f"the page is a browser check titled {title.strip()[:60]!r}")
    joined = "\n".join(lines).lower()
    for line in lines if any(hint in joined for hint in _CHALLENGE_HINTS) else ():
        found = _CHALLENGE_TEXT.search(line) if len(line) <= CHALLENGE_LINE_MAX_CHARS else None
        if found:
            return Wall(BOT_CHALLENGE, f"the page asks to prove a human is browsing "
                                       f"({found.group(0)!r})")
    if words < NEARLY_EMPTY_WORDS:
        marker = script_marker(tree)
        if marker:
            return Wall(BOT_CHALLENGE, f"the page runs a challenge script ({marker})")
    return None


# Words one of which a consent dialog always holds, looked for (in C) before any regex runs.
_CONSENT_HINTS = ("cookie", "consent", "tracking", "tracker", "einwillig", "zustimm", "consenso",
                  "gdpr", "dsgvo", "rgpd", "pur-abo", "pur abo", "datenschutz-einst",
                  "datenschutzeinst", "privacy settings")


def _consent(title: str | None, lines: list[str]) -> Wall | None:
    prompt = bool(title and _CONSENT_TITLE.match(title.strip()))
    if not prompt:
        text = "\n".join(lines).lower()
        if not any(hint in text for hint in _CONSENT_HINTS):
            return None
    consent_words = other_words = 0
    for line in lines:
        size = len(line.split())
        if len(line) <= CONSENT_LINE_MAX_CHARS and _CONSENT_WORDS.search(line):
            consent_words += size
            prompt = prompt or _is_prompt(line, size)
        else:
            other_words += size
            if other_words >= OTHER_WORDS_MAX:  # article text: no wall (and no more regexes)
                return None
    if prompt and consent_words:
        return Wall(CONSENT_WALL, "the page asks to accept cookies or tracking (or to "
                                  "subscribe) and shows no article text")
    return None


def _is_prompt(line: str, size: int) -> bool:
    """A line that asks for consent: the site speaking of its cookies, "accept or subscribe",
    or a short line naming cookies or consent and a choice."""
    if not _CONSENT_TOPIC.search(line):
        return False
    return bool(_PROMPT.search(line) or size <= 12 and _CHOICE.search(line))


def visible_lines(tree: HtmlElement, limit: int = VISIBLE_TEXT_MAX_CHARS) -> list[str]:
    """The first `limit` characters of the body's visible text, one line per text node
    (scripts, styles and templates skipped): read only on pages extraction found empty."""
    body = tree.find("body")
    if body is None:
        return []
    lines: list[str] = []
    size = 0
    for count, el in enumerate(body.iter()):
        if count >= VISIBLE_MAX_ELEMENTS:
            break
        if not isinstance(el.tag, str) or el.tag in ("script", "style", "noscript", "template"):
            texts = [el.tail]
        else:
            texts = [el.text, el.tail]
        for text in texts:
            text = " ".join((text or "").split())
            if text:
                lines.append(text)
                size += len(text)
        if size >= limit:
            break
    return lines


def script_marker(tree: HtmlElement) -> str | None:
    """The challenge platform a page's scripts or forms name, if any."""
    for el in tree.iter("script", "form", "iframe"):
        where = " ".join(v for v in (el.get("src"), el.get("action"), el.get("id"),
                                     (el.text or "")[:2000]) if v).lower()
        for marker in CHALLENGE_MARKERS:
            if marker in where:
                return marker
    return None


def challenge_response(status: int, headers: Mapping[str, str], body: bytes) -> str | None:
    """Why an HTTP answer is a bot challenge (None when it is not): a header that says so; a
    403/429/503 page with a challenge title or a challenge platform's scripts; or a small page
    of another status with both (a challenge answered 200, on a start page that extraction
    never reads).

    `headers` maps lower-case names to values. An answer of another status over 64 KB (an
    article) costs one dictionary lookup per header.
    """
    for name, value in CHALLENGE_HEADERS.items():
        if headers.get(name, "").strip().lower() == value:
            return f"HTTP {status} with {name}: {value}"
    if status not in CHALLENGE_STATUSES:
        if len(body) > _SMALL_ANSWER_BYTES:
            return None
        title = _challenge_title(body[:_TITLE_BYTES])
        marker = title and _challenge_marker(body)
        return f"HTTP {status} browser check titled {title!r} ({marker})" if marker else None
    head = body[:_CHALLENGE_BODY_BYTES]
    title = _challenge_title(head)
    if title:
        return f"HTTP {status} browser check titled {title!r}"
    marker = _challenge_marker(head)
    return f"HTTP {status} with a challenge script ({marker})" if marker else None


def _challenge_title(head: bytes) -> str | None:
    found = _CHALLENGE_TITLE_BYTES.search(head)
    if found is None:
        return None
    text = found.group(1).decode("utf-8", "replace").strip()
    return text[:60] if _CHALLENGE_TITLE.match(text) else None


def _challenge_marker(body: bytes) -> str | None:
    lowered = body.lower()
    return next((m for m in CHALLENGE_MARKERS if m.encode() in lowered), None)
