"""rassegna: crawl news sites into a clean, searchable, versioned SQLite archive."""

from importlib import metadata

# The one version literal is pyproject.toml's, read from the installed metadata (as
# extract.settings.package_version does; importing that here would load trafilatura on
# every `rassegna --help`).
try:
    __version__ = metadata.version("rassegna")
except metadata.PackageNotFoundError:
    __version__ = "0+unknown"
