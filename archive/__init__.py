"""archive.db: schema and migrations, batched writes, export, and the Datasette setup.

The crawler and the CLI use ``Archive`` (``store.py``); analysts use ``rassegna serve``
(``serve.py`` + ``datasette/``) and ``rassegna export`` (``export.py``).
"""

from .lock import ArchiveLocked
from .store import Archive

__all__ = ["Archive", "ArchiveLocked"]
