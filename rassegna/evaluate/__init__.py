"""`rassegna eval`: extraction quality on labelled pages, rassegna and stock trafilatura side by side.

Gold pages come in four layouts (see docs/eval.md):

- ``articles/`` of the shared corpus: ``ground-truth.json`` + ``html/<id>.html.gz`` (body);
- ``dates/``: ``truth.json`` with a ``date`` per page (publication day, scored without the URL);
- ``fundus/``: ``truth.json`` with title, authors, published_at, language and body;
- a JSONL file of the user's own labelled pages (one object a line).

Each page is extracted by rassegna (`extract.article`) and by stock trafilatura
(`trafilatura.extract(..., output_format="json", with_metadata=True)`), and every label the page
has is scored with the conventions of the corpus README: titles exact after normalisation,
authors as sets (P/R/F1 summed over pages that credit someone), same calendar day, 4-token
shingle F1 for bodies, primary language subtag, and article recall.
"""


from .gold import GoldError, GoldPage, load_gold, read_html
from .measures import (
                       author_counts,
                       body_scores,
                       date_matches,
                       f1,
                       language_matches,
                       normalise_name,
                       normalise_text,
                       shingles,
                       title_matches,
)
from .report import (
                       SetReport,
                       Target,
                       format_table,
                       per_page_rows,
                       report_set,
                       score_set,
                       set_kind,
                       unique_names,
                       worst_pages,
                       write_outputs,
)
from .run import (
                       PageResult,
                       Prediction,
                       cache_dir,
                       evaluate_pages,
                       run_rassegna,
                       run_stock,
                       run_stock_cached,
)

__all__ = [
    "GoldError", "GoldPage", "PageResult", "Prediction", "SetReport", "Target", "author_counts",
    "body_scores", "cache_dir", "date_matches", "evaluate_pages", "f1", "format_table",
    "language_matches", "load_gold", "normalise_name", "normalise_text", "per_page_rows",
    "read_html", "report_set", "run_rassegna", "run_stock", "run_stock_cached", "score_set",
    "set_kind", "shingles", "title_matches", "unique_names", "worst_pages", "write_outputs",
]
