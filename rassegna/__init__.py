"""rassegna: crawl news sites into a clean, searchable, versioned SQLite archive."""

from extract.settings import package_version

# the one version literal is pyproject.toml's; this reads it from the installed metadata
__version__ = package_version()
