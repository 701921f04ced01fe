"""HTML in, article record out: rassegna's extraction, pure functions over lxml trees."""

from .core import ParsedPage, article, article_from_page, content_hash, parse_page, warm_up
from .record import Article
from .settings import DEFAULT as DEFAULT_SETTINGS
from .settings import EXTRACTOR_VERSION

__all__ = [
    "DEFAULT_SETTINGS", "EXTRACTOR_VERSION", "Article", "ParsedPage", "article", "article_from_page", "content_hash",
    "parse_page", "warm_up",
]
