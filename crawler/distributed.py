"""Moved to ``crawler.fleet``. ``encode`` remains only for tests/test_published_day.py: once it
imports ``crawler.fleet.protocol.encode_message``, this module goes."""

from crawler.fleet.protocol import encode_message as encode

__all__ = ["encode"]
