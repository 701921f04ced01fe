"""crawler.malloc: freed page-sized blocks go back to the system once the threshold is fixed."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.malloc import use_mmap_for_large_blocks

REPO = Path(__file__).parents[1]
# Free one large block (glibc then raises its mmap threshold past page size), then allocate
# 300 page-sized blocks interleaved with small long-lived ones (>512 B: malloc, not pymalloc)
# and free the large ones: what the process still holds is the fragmentation.
PROGRAM = """
import sys
from crawler.malloc import use_mmap_for_large_blocks

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024

if sys.argv[1] == "tuned":
    assert use_mmap_for_large_blocks(64 * 1024)
first = bytes(300_000)
del first
before = rss_mb()
pages, small = [], []
for _ in range(300):
    pages.append(bytearray(180_000))
    pages[-1][::4096] = b"x" * len(pages[-1][::4096])  # touch every page of it
    small.append(bytearray(1000))
del pages
print(rss_mb() - before)
"""

glibc_only = pytest.mark.skipif(platform.libc_ver()[0] != "glibc",
                                reason="mallopt(M_MMAP_THRESHOLD) is a glibc knob")


def _retained_mb(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", PROGRAM, mode], capture_output=True, text=True,
                         check=True, cwd=REPO)
    return int(out.stdout)


@glibc_only
def test_freed_page_sized_blocks_are_returned_only_with_a_fixed_threshold() -> None:
    assert _retained_mb("default") >= 30  # 54 MB were allocated; glibc keeps most of it
    assert _retained_mb("tuned") <= 5


def test_zero_keeps_glibc_default() -> None:
    assert use_mmap_for_large_blocks(0) is False
