"""``python -m rassegna.sample_site --port 8765``: serve the bundled sample news site."""

from rassegna.sample_site.server import main

raise SystemExit(main())
