"""A crawl fleet on one Redis: ``rassegna crawl --redis URL`` workers, one ``rassegna ingest``.

Workers share one frontier and push the rows a local crawl would write; ``rassegna ingest`` is
the only process that writes the archive. One module per component kind:

- ``addon``: ``configure_fleet(settings)``, the one switch (the ``REDIS_URL`` setting);
- ``scheduler``, ``queue``: scrapy-redis's scheduler and priority queue on the run's keys,
  with leased pops so that a killed worker loses no request;
- ``spidermiddlewares``: seeds each run once; ``downloadermiddlewares``: fleet-wide
  politeness; ``pipelines``: rows to Redis; ``extensions``: heartbeat, reaping, leaving;
- ``worker``: this process's membership of the run; ``lua``: the atomic steps;
- ``protocol``: keys, wire format (JSON, never pickle) and run counting, shared with ingest;
- ``known``: the archive's known URLs as ingest publishes them; ``connection``: Redis.

What comes from scrapy-redis 0.9.1 (Scrapy 2.19): the scheduler, the duplicate filter and the
queue's layout are used; its spiders (built on ``start_requests()``, which Scrapy 2.16+ no
longer calls) and its item pipeline (JSON that cannot carry bytes) are not.

Keys (prefix ``RASSEGNA_REDIS_PREFIX``, default ``rassegna``): ``run`` (current run id),
``run:<id>:{requests,dupefilter,seeded,seeder,workers,hb:<w>,inflight:<w>,lease,stats}``,
``items`` and ``items:processing`` (ingest), ``archive_runs``, ``known:<source>`` (archive
URLs, published by ingest), ``polite:<host>`` (next allowed fetch time, ms).
"""
