"""Language: py3langid on the body text, cross-checked with <html lang> and the source's hint."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

LOGGER = logging.getLogger(__name__)
# Below this many characters a text classifier guesses; the page's own claim is better.
_MIN_TEXT = 150
_CONFIDENT = 0.90


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def normalise(code: str | None) -> str | None:
    """ISO 639-1 from a tag like "it-IT", "en_GB" or "DE"."""
    if not code:
        return None
    code = code.strip().replace("_", "-").split("-")[0].lower()
    return code if len(code) == 2 and code.isalpha() else None


def detect(text: str) -> tuple[str | None, float]:
    """(language, probability) of a text, from its first few thousand characters."""
    sample = text[:1200]  # enough for a clear verdict; the cost grows with the length
    if len(sample) < 20:
        return None, 0.0
    try:
        lang, prob = _identifier().classify(sample)
    except Exception:  # the model is optional at worst
        LOGGER.debug("language detection failed", exc_info=True)
        return None, 0.0
    return str(lang), float(prob)


def decide(text: str, html_lang: str | None, hint: str | None) -> str | None:
    """The page's language: the text decides when long and clear, otherwise the page's claims."""
    declared = normalise(html_lang)
    hinted = normalise(hint)
    detected, prob = detect(text) if text else (None, 0.0)
    if detected and len(text) >= _MIN_TEXT and (prob >= _CONFIDENT or detected in (declared, hinted)):
        return detected
    # short or ambiguous text: trust what the page and the source say, then the guess
    return declared or hinted or detected
