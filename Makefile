# One task runner for developers and CI: `make demo`, `make test`, `make bench`, `make lint`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
PORT ?= 8001
SITE_PORT ?= 8765
DB ?= archive.db
CORPUS ?= ../shared/corpus

.PHONY: install demo test test-fast bench lint browser-deps redis-deps clean

# The venv is rebuilt when pyproject.toml changes. pip is upgraded first: the pip 23.2 that
# a new venv carries resolves lxml's html-clean extra wrongly and trafilatura fails to import.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,redis]'
	touch $@

install: $(VENV)/.installed

# Serve the bundled sample site, crawl it into $(DB) (a new archive: first as the site was,
# then as it is after an edit, so the archive holds an edited article and its diff), print a
# summary, serve Datasette.
demo: install
	@set -e; \
	sed 's/127\.0\.0\.1:8765/127.0.0.1:$(SITE_PORT)/' examples/sample-site.toml > $(VENV)/demo-sources.toml; \
	site=; trap 'test -n "$$site" && kill $$site 2>/dev/null' EXIT INT TERM; \
	for revision in $$(test -e $(DB) || echo 1) 2; do \
	    $(PY) -m rassegna.sample_site --port $(SITE_PORT) --revision $$revision & site=$$!; \
	    for i in $$(seq 50); do curl -fs -o /dev/null http://127.0.0.1:$(SITE_PORT)/ && break; sleep 0.1; done; \
	    $(BIN)/rassegna crawl --db $(DB) --sources $(VENV)/demo-sources.toml \
	        -s DOWNLOAD_DELAY=0 -s AUTOTHROTTLE_ENABLED=False -s LOG_LEVEL=WARNING; \
	    test $$revision = 2 || { kill $$site; wait $$site 2>/dev/null || true; }; \
	done; \
	$(BIN)/rassegna stats --db $(DB); \
	echo "Datasette: http://127.0.0.1:$(PORT)/  (Ctrl-C to stop)"; \
	$(BIN)/rassegna serve --db $(DB) --port $(PORT)

# Debian packages some tests need; installed only when missing (root on these machines).
browser-deps:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

redis-deps:
	@command -v redis-server >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }

# Tests run in parallel (pytest-xdist): the tests of one xdist_group run one after another in
# one worker (tests/conftest.py says which). One worker more than the cores: the suite waits on
# crawls, servers and timeouts much of its time (run in one process it used 76% of a core).
# TEST_WORKERS=0 runs the tests in this process, one at a time.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
PYTEST := $(PY) -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadgroup

test: install browser-deps redis-deps
	$(PYTEST)

# The tests not marked slow (long crawls in subprocesses), browser or redis.
test-fast: install
	$(PYTEST) -x -m "not slow and not browser and not redis"

# Extraction quality on the three labelled dev sets (rassegna and stock side by side, targets
# PASS/FAIL), then speed and the archive and crawl benchmarks.
bench: install
	$(BIN)/rassegna eval $(CORPUS)/articles $(CORPUS)/dates $(CORPUS)/fundus
	$(PY) bench/extraction.py
	$(PY) bench/archive.py
	$(PY) bench/pipeline.py

# ruff over the whole tree; mypy over the files listed in pyproject.toml ([tool.mypy]).
lint: install
	$(BIN)/ruff check crawler extract archive rassegna tests bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis *.egg-info test-output
