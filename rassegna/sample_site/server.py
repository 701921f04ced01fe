"""A tiny stdlib HTTP server for the bundled sample news site ("Tecnoradar").

Static files live in ``pages/`` and are served at the site root. ``{{BASE}}`` in text
files is replaced by the server's base URL (``http://HOST:PORT``) so canonical links,
feeds and sitemaps carry absolute URLs whatever port was picked. ``/errore-server.html``
always answers 500; unknown paths answer 404. Responses carry ``ETag`` (hash of the body
served) and ``Last-Modified`` (the file's mtime) and honour conditional requests with 304.

``revision=2`` (``--revision 2``) serves the site as it is after an edit: the pages listed
under ``revisions`` in ``manifest.json`` get their replacements (a new headline, a changed
sentence), so a crawl before and one after record an edited article with its diff.

Tests use :func:`serve_in_thread`; ``server.hits`` counts requests per path (query string
dropped) and ``server.overrides`` replaces a path's answer (``bytes``/``str`` body, or an
``int`` status) to simulate edits and outages without touching the files.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import http.server
import json
import threading
import time
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

PAGES_DIR = Path(__file__).resolve().with_name("pages")
MANIFEST_PATH = Path(__file__).resolve().with_name("manifest.json")
ERROR_PATHS = frozenset({"/errore-server.html"})
TEXT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "application/javascript; charset=utf-8",
    ".json": "application/json",
}
SPECIAL_TYPES = {"feed.xml": "application/rss+xml", "atom.xml": "application/atom+xml"}
BINARY_TYPES = {".png": "image/png"}
ERROR_BODY = (
    '<!DOCTYPE html><html lang="it"><head><meta charset="utf-8"><title>{code} | Tecnoradar</title>'
    '</head><body><h1>{code}</h1><p>{msg}</p><p><a href="/">Torna alla home</a></p></body></html>'
)


class SampleSiteServer(http.server.ThreadingHTTPServer):
    """ThreadingHTTPServer serving ``root`` with a thread-safe per-path hit counter."""

    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], root: Path | str = PAGES_DIR, verbose: bool = False,
        revision: int = 1,
    ) -> None:
        super().__init__(address, _Handler)
        self.root = Path(root).resolve()
        self.verbose = verbose
        self.edits = revision_edits(revision)
        self.started = time.time()  # an edited page was last modified when this revision began
        self.hits: collections.Counter[str] = collections.Counter()
        self.overrides: dict[str, bytes | str | int] = {}
        self._hits_lock = threading.Lock()

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` as bound (the actual port when started with port 0)."""
        host, port = self.server_address[0], self.server_address[1]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://{host}:{port}"

    def count(self, path: str) -> None:
        with self._hits_lock:
            self.hits[path] += 1


class _Handler(http.server.BaseHTTPRequestHandler):
    server: SampleSiteServer
    protocol_version = "HTTP/1.1"
    server_version = "TecnoradarSample/1.0"

    def log_message(self, format: str, *args: object) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _serve(self, head: bool) -> None:
        path = unquote(urlsplit(self.path).path) or "/"
        self.server.count(path)
        override = self.server.overrides.get(path)
        if isinstance(override, int):
            return self._error(override, head)
        if path in ERROR_PATHS:
            return self._error(500, head)
        if override is not None:
            body = override.encode() if isinstance(override, str) else override
            ctype, mtime = TEXT_TYPES[".html"], None
        else:
            try:
                file = (self.server.root / path.lstrip("/")).resolve()
            except (OSError, ValueError):
                return self._error(404, head)
            if not file.is_relative_to(self.server.root):
                return self._error(404, head)
            if file.is_dir() and not path.endswith("/"):
                location = {"Location": path + "/"}
                return self._send(301, b"", "text/plain; charset=utf-8", head, location)
            if file.is_dir():
                file = file / "index.html"
            suffix = file.suffix.lower()
            if not file.is_file() or not (suffix in TEXT_TYPES or suffix in BINARY_TYPES):
                return self._error(404, head)
            body, mtime = file.read_bytes(), file.stat().st_mtime
            ctype = SPECIAL_TYPES.get(file.name) or TEXT_TYPES.get(suffix) or BINARY_TYPES[suffix]
            if suffix in TEXT_TYPES:
                body = body.replace(b"{{BASE}}", self._base().encode())
            if path in self.server.edits:
                body, mtime = apply_edits(body, self.server.edits[path]), self.server.started
        etag = f'"{hashlib.sha1(body).hexdigest()[:20]}"'
        headers = {"ETag": etag}
        if mtime is not None:
            headers["Last-Modified"] = formatdate(mtime, usegmt=True)
        if self._not_modified(etag, mtime):
            return self._send(304, b"", None, head, headers)
        self._send(200, body, ctype, head, headers)

    def _base(self) -> str:
        host = self.server.server_address[0]
        if host in ("", "0.0.0.0", "::") and self.headers.get("Host"):
            return f"http://{self.headers['Host']}"
        return self.server.base_url

    def _not_modified(self, etag: str, mtime: float | None) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:  # RFC 9110: If-None-Match wins over If-Modified-Since
            tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
            return "*" in tags or etag in tags
        ims = self.headers.get("If-Modified-Since")
        if ims and mtime is not None:
            try:
                return int(mtime) <= parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError):
                return False
        return False

    def _error(self, code: int, head: bool) -> None:
        msg = {404: "Pagina non trovata.", 500: "Errore interno del server."}.get(code, "Errore.")
        self._send(
            code, ERROR_BODY.format(code=code, msg=msg).encode(), TEXT_TYPES[".html"], head, {}
        )

    def _send(
        self, code: int, body: bytes, ctype: str | None, head: bool, headers: dict[str, str]
    ) -> None:
        self.send_response(code)
        if ctype:
            self.send_header("Content-Type", ctype)
        for name, value in headers.items():
            self.send_header(name, value)
        if code != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and code != 304:
            self.wfile.write(body)


def revision_edits(revision: int) -> dict[str, list[tuple[str, str]]]:
    """Path -> (old, new) replacements of every revision up to ``revision`` (1: none)."""
    revisions = json.loads(MANIFEST_PATH.read_text(encoding="utf-8")).get("revisions", {})
    edits: dict[str, list[tuple[str, str]]] = {}
    for number in sorted(revisions, key=int):
        if int(number) <= revision:
            for path, edit in revisions[number].items():
                edits.setdefault(path, []).extend((old, new) for old, new in edit["replace"])
    return edits


def apply_edits(body: bytes, edits: list[tuple[str, str]]) -> bytes:
    for old, new in edits:
        body = body.replace(old.encode(), new.encode())
    return body


def make_server(
    host: str = "127.0.0.1", port: int = 0, *, root: Path | str = PAGES_DIR, verbose: bool = False,
    revision: int = 1,
) -> SampleSiteServer:
    """Bind (port 0 = any free port) and return the server, not yet serving."""
    return SampleSiteServer((host, port), root=root, verbose=verbose, revision=revision)


def serve_in_thread(
    port: int = 0, host: str = "127.0.0.1", *, root: Path | str = PAGES_DIR, verbose: bool = False,
    revision: int = 1,
) -> tuple[SampleSiteServer, str]:
    """Serve in a daemon thread; returns ``(server, base_url)``. Call ``server.shutdown()`` after."""
    server = make_server(host, port, root=root, verbose=verbose, revision=revision)
    threading.Thread(target=server.serve_forever, name="sample-site", daemon=True).start()
    return server, server.base_url


def main(argv: list[str] | None = None) -> int:
    """CLI: ``python -m rassegna.sample_site [--host H] [--port P] [--revision N] [-v]``."""
    parser = argparse.ArgumentParser(
        prog="python -m rassegna.sample_site", description="Serve the bundled sample news site."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--root", default=str(PAGES_DIR), help="directory to serve (default: the bundled pages)"
    )
    parser.add_argument(
        "--revision", type=int, default=1,
        help="2: serve the pages edited since the first revision (manifest.json: revisions)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    server = make_server(args.host, args.port, root=args.root, verbose=args.verbose,
                         revision=args.revision)
    revision = f", revision {args.revision}" if args.revision > 1 else ""
    print(f"Sample site at {server.base_url}/{revision} (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
