"""The scores of the corpus README: titles, author sets, same day, shingle F1, language."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

# --- normalisation and scores ---------------------------------------------------------------

_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile(r"\s+")
TOKEN = re.compile(r"\w+")
_EDGE_PUNCT = " \t\n.,;:!?\"'()[]{}«»“”‘’-–—/|·•"


def normalise_text(text: str | None) -> str:
    """NFC, no soft hyphens or zero-width characters, one space, case folded."""
    text = unicodedata.normalize("NFC", text or "")
    return _SPACES.sub(" ", _INVISIBLE.sub("", text)).strip().casefold()


def normalise_name(name: str) -> str:
    """A name as authors are compared: normalised text without surrounding punctuation."""
    return normalise_text(name).strip(_EDGE_PUNCT)


def title_matches(predicted: str | None, truth: str) -> bool:
    return normalise_text(predicted) == normalise_text(truth)


def author_counts(predicted: Iterable[str], truth: Iterable[str]) -> tuple[int, int, int]:
    """(tp, fp, fn) of two sets of names."""
    pred = {normalise_name(n) for n in predicted} - {""}
    true = {normalise_name(n) for n in truth} - {""}
    return len(pred & true), len(pred - true), len(true - pred)


def shingles(text: str | None) -> Counter[tuple[str, ...]]:
    """Multiset of 4-token shingles of `\\w+` tokens (a text under 4 tokens is one shingle)."""
    tokens = TOKEN.findall(text or "")
    if len(tokens) < 4:
        return Counter([tuple(tokens)]) if tokens else Counter()
    return Counter(tuple(tokens[i:i + 4]) for i in range(len(tokens) - 3))


def body_scores(predicted: str | None, truth: str) -> tuple[float, float, bool]:
    """(precision, recall, exact token match) of one page, tp/fp/fn normalised per page."""
    pred, true = shingles(predicted), shingles(truth)
    tp = sum((pred & true).values())
    fp = sum((pred - true).values())
    fn = sum((true - pred).values())
    exact = TOKEN.findall(predicted or "") == TOKEN.findall(truth)
    if fp == 0 and fn == 0:
        return 1.0, 1.0, exact
    # (normalising tp, fp and fn by their sum, as the README says, leaves these ratios as they are)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return precision, recall, exact


def f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def language_matches(predicted: str | None, truth: str) -> bool:
    def primary(code: str | None) -> str:
        tag = (code or "").lower().replace("_", "-").split("-")[0]
        return "no" if tag in ("nb", "nn") else tag
    return bool(predicted) and primary(predicted) == primary(truth)


# Usual zone of the publisher countries found in labelled sets (fundus' codes), used only
# when the label has no offset: "the result's own day or its day in the country's usual zone".
COUNTRY_ZONES = {
    "at": "Europe/Vienna", "au": "Australia/Sydney", "be": "Europe/Brussels",
    "ca": "America/Toronto", "ch": "Europe/Zurich", "cn": "Asia/Shanghai", "de": "Europe/Berlin",
    "es": "Europe/Madrid", "fr": "Europe/Paris", "il": "Asia/Jerusalem", "ind": "Asia/Kolkata",
    "isl": "Atlantic/Reykjavik", "it": "Europe/Rome", "jp": "Asia/Tokyo", "li": "Europe/Vaduz",
    "ls": "Africa/Maseru", "lt": "Europe/Vilnius", "lu": "Europe/Luxembourg",
    "na": "Africa/Windhoek", "no": "Europe/Oslo", "pl": "Europe/Warsaw", "pt": "Europe/Lisbon",
    "ru": "Europe/Moscow", "se": "Europe/Stockholm", "tz": "Africa/Dar_es_Salaam",
    "uk": "Europe/London", "us": "America/New_York", "za": "Africa/Johannesburg",
    "kr": "Asia/Seoul", "tw": "Asia/Taipei", "hk": "Asia/Hong_Kong", "br": "America/Sao_Paulo",
    "mx": "America/Mexico_City", "ar": "America/Argentina/Buenos_Aires", "nl": "Europe/Amsterdam",
    "dk": "Europe/Copenhagen", "fi": "Europe/Helsinki", "ie": "Europe/Dublin", "gr": "Europe/Athens",
    "tr": "Europe/Istanbul", "ua": "Europe/Kyiv", "hu": "Europe/Budapest", "cz": "Europe/Prague",
}


def _parse_moment(value: str) -> datetime | date | None:
    value = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return date.fromisoformat(value)
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def date_matches(predicted_at: str | None, predicted_day: str | None, truth: str,
                 country: str | None = None) -> bool:
    """Same calendar day as the label, read in the label's own offset.

    A zoned prediction is converted to the label's offset first; where the label has no offset
    (or is a bare day), the prediction's own day (the publisher's day, `published_day`) or its
    day in the publisher country's usual zone counts.
    """
    label = _parse_moment(truth)
    if label is None:
        return False
    label_day = label.date() if isinstance(label, datetime) else label
    moment = _parse_moment(predicted_at) if predicted_at else None
    if isinstance(label, datetime) and label.tzinfo is not None and isinstance(moment, datetime) \
            and moment.tzinfo is not None:
        return moment.astimezone(label.tzinfo).date() == label_day
    days = set()
    if predicted_day:
        days.add(predicted_day)
    if isinstance(moment, datetime):
        days.add(moment.date().isoformat())
        zone = COUNTRY_ZONES.get((country or "").lower())
        if zone and moment.tzinfo is not None:
            days.add(moment.astimezone(ZoneInfo(zone)).date().isoformat())
    elif isinstance(moment, date):
        days.add(moment.isoformat())
    return label_day.isoformat() in days


