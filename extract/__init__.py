"""HTML in, article record out: rassegna's extraction, pure functions over lxml trees."""

from .core import article, content_hash, warm_up
from .record import Article
from .settings import EXTRACTOR_VERSION

__all__ = ["EXTRACTOR_VERSION", "Article", "article", "content_hash", "warm_up"]
