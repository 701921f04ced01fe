"""Scrapy settings for rassegna: polite by default.

Every value here can be overridden per run with ``rassegna crawl -s NAME=VALUE`` (or
``scrapy crawl news -s NAME=VALUE``); these are the only source of crawler configuration.
"""

import os

BOT_NAME = "rassegna"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# --- rassegna's own settings -------------------------------------------------------------
ARCHIVE_DB = "archive.db"
# Extraction is CPU-bound (≈30 ms a page): it runs in a process pool of this many workers.
EXTRACT_WORKERS = os.cpu_count() or 1
# Items are written in one transaction per batch; a partial batch is flushed after this many seconds.
ARCHIVE_BATCH_SIZE = 100
ARCHIVE_FLUSH_SECONDS = 2.0
# Fetch nothing on loopback/private/link-local/metadata addresses unless a source names that host.
NETGUARD_ENABLED = True
# Blocks of this many bytes and more are mmap'd, so freed page bodies go back to the system
# (glibc only; 0 keeps glibc's dynamic threshold). See crawler/malloc.py for the measurement.
MALLOC_MMAP_THRESHOLD = 64 * 1024
# Live progress line on a terminal; plain log lines otherwise.
PROGRESS_ENABLED = True

# --- the Redis fleet (crawler/fleet/) --------------------------------------------------------
# Setting REDIS_URL (`rassegna crawl --redis URL`, `scrapy crawl news -s REDIS_URL=...`, Scrapyd)
# makes the crawl a fleet worker: FleetAddon switches the components over.
ADDONS = {"crawler.fleet.addon.FleetAddon": 0}
# Prefix of every Redis key of the fleet; `rassegna ingest` reads it too (or takes --prefix).
RASSEGNA_REDIS_PREFIX = "rassegna"
# A worker silent this many seconds is dead: its leased requests go back to the queue.
RASSEGNA_WORKER_TTL = 15.0
# Seconds between a worker's looks at the shared queue (and heartbeats, at most one a second).
RASSEGNA_FLEET_TICK = 0.5

# --- politeness ----------------------------------------------------------------------------
USER_AGENT = "rassegna/0.1 (+https://github.com/rassegna/rassegna; news archive crawler)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
# Scrapy starts this many asyncio tasks for every response's output, even when the page
# yields a single item (an article page always does): at the default of 100 that was ~20% of
# the crawl process's CPU (bench/pipeline.py: 8.9 -> 7.0 ms a page at 8, no fewer pages/s).
# Feeds and sitemaps yield thousands of requests, which need no parallelism to be queued.
CONCURRENT_ITEMS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
DNS_TIMEOUT = 15
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
REDIRECT_MAX_TIMES = 10
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False

DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.NetGuardMiddleware": 50,
    "crawler.middlewares.RobotsCrawlDelayMiddleware": 110,
    # Replaces Scrapy's RetryMiddleware to honour Retry-After.
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.RetryAfterMiddleware": 550,
    # Replaces Scrapy's RedirectMiddleware to report redirect loops.
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.middlewares.LoopAwareRedirectMiddleware": 600,
    # Replaces Scrapy's MetaRefreshMiddleware, which decodes every whole page to read its head.
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.HeadOnlyMetaRefreshMiddleware": 580,
    # Bot challenges and consent redirects fail as walls: after decompression (590), before
    # meta refresh (580) and retries (550).
    "crawler.middlewares.WallMiddleware": 585,
}
ITEM_PIPELINES = {
    "crawler.pipelines.ExtractPipeline": 300,
    "crawler.pipelines.ArchivePipeline": 800,
}
EXTENSIONS = {
    "crawler.extensions.ProgressExtension": 500,
    "crawler.extensions.MallocTuningExtension": 0,
}

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
