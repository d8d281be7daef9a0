"""Building the search rows of imported articles, after their import, in a worker.

An import writes its articles with a pending search row each (see ``ArticleSearch``): the Spanish
document and the trigram-indexed body copy cost PostgreSQL several times the import's own work
(docs/benchmarks.md, "Importing"), so a worker builds them once the import has committed, a chunk at a
time, each chunk its own short transaction. Until then search and propagation read those articles'
own text, and find them all the same.
"""

import logging

from django.db import transaction
from django.tasks import task

from articles.models import ArticleSearch

log = logging.getLogger(__name__)

# Rows per statement: small enough that a chunk never holds locks long (its cost a row: docs/benchmarks.md).
CHUNK = 500


def build_pending() -> int:
    """Builds every pending search row, a chunk per transaction; returns how many. Several workers
    share the work: each skips the rows another is building."""
    built = 0
    while True:
        with transaction.atomic():
            done = ArticleSearch.objects.build(CHUNK)
        built += done
        if done < CHUNK:
            return built


@task()
def index_articles() -> int:
    """The search rows an import left pending (queued by the import, in its transaction)."""
    built = build_pending()
    log.debug("Built the search rows of %s articles", built)
    return built
