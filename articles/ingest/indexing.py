"""Building the search rows of imported articles, after their import, in a worker.

They cost PostgreSQL more than the import itself, so the import leaves them pending
(docs/importing.md, "Search rows later").
"""

import logging

from django.db import transaction
from django.tasks import task

from articles.models import ArticleSearch

log = logging.getLogger(__name__)

# Rows per transaction: small enough that a chunk never holds locks long.
CHUNK = 500


def build_pending() -> int:
    """Builds every pending search row; returns how many. Workers skip the rows another is building."""
    built = 0
    while True:
        with transaction.atomic():
            done = ArticleSearch.objects.build(CHUNK)
        built += done
        if done < CHUNK:
            return built


@task()
def index_articles() -> int:
    built = build_pending()
    log.debug("Built the search rows of %s articles", built)
    return built
