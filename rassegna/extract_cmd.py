"""``rassegna extract``: run extraction on saved files, URLs or stdin, print the records."""

from __future__ import annotations

import json
import sys
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import click

import extract


def extract_inputs(inputs: tuple[str, ...], *, page_url: str | None, fmt: str, out: TextIO,
                   language_hint: str | None = None, timezone: str | None = None) -> int:
    """Print one record per input in input order; return how many inputs failed."""
    failed = 0
    records = []
    for name in inputs:
        try:
            body, url, charset = _read_input(name, page_url)
        except (OSError, ValueError) as exc:
            click.echo(f"Error: {name}: {exc}", err=True)
            failed += 1
            continue
        record = extract.article(body, url, fetched_at=datetime.now(UTC), charset=charset,
                                 language_hint=language_hint, timezone=timezone)
        if record is None:
            click.echo(f"Error: {name}: nothing could be extracted (empty or not HTML)", err=True)
            failed += 1
            continue
        data = {"input": name, **record.to_dict()}
        if fmt == "jsonl":
            out.write(json.dumps(data, ensure_ascii=False) + "\n")
        else:
            records.append(data)
    if fmt == "json":
        payload: Any = records[0] if len(records) == 1 and len(inputs) == 1 else records
        out.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    elif fmt in ("text", "markdown"):
        out.write("\n\n".join(_as_text(r, fmt) for r in records) + ("\n" if records else ""))
    return failed


def _read_input(name: str, page_url: str | None) -> tuple[bytes, str | None, str | None]:
    if name == "-":
        return sys.stdin.buffer.read(), page_url, None
    if name.startswith(("http://", "https://")):
        request = urllib.request.Request(name, headers={"User-Agent": "rassegna-extract"})
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (http(s) only)
            return response.read(), page_url or response.url, response.headers.get_content_charset()
    path = Path(name)
    if not path.is_file():
        raise ValueError("no such file")
    return path.read_bytes(), page_url, None


def _as_text(record: dict[str, Any], fmt: str) -> str:
    title = record.get("title") or ""
    byline = ", ".join(record.get("authors") or [])
    meta = " · ".join(x for x in (byline, record.get("published_at") or "") if x)
    if fmt == "markdown":
        head = f"# {title}\n\n" + (f"*{meta}*\n\n" if meta else "")
    else:
        head = f"{title}\n" + (f"{meta}\n" if meta else "") + "\n"
    return head + (record.get("text") or "")
