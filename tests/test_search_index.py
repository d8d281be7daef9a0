"""Search rows built after an import, by a worker: until then search and propagation read the articles' text."""

import pytest
from django.db import connection

from articles.editing import verbs
from articles.ingest.indexing import index_articles
from articles.models import Article, ArticleSearch, Suggestion
from articles.models.fields import content_hash
from tests.test_imports import jsonl, run, write

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_worker(settings):
    # Queued tasks wait, as they do for a worker: the import leaves its search rows pending.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}


def found(query: str) -> list[str]:
    return sorted(Article.objects.matching(query).values_list("title", flat=True))


def at_size(articles: int = 5000) -> None:
    """Gives the tables the size and statistics of a corpus in use: the planner then chooses as it
    would there, whatever the tables held when they were last analysed."""
    bodies = (f"El pleno aprobó la moción {n} por mayoría." for n in range(articles))
    filler = (
        Article(title=body[:20], body=body, body_length=len(body), content_hash=content_hash(body)) for body in bodies
    )
    Article.objects.bulk_create(filler, batch_size=1000)
    ArticleSearch.objects.build(articles)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE articles_article, articles_articlesearch")


def plan(queryset) -> str:
    """The plan of a query if the table were larger still: scans of it all, by its heap or by its
    primary key, cost more than the indexes that narrow the search."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        sql, params = queryset.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        return " ".join(row[0] for row in cursor.fetchall())


def test_imported_articles_are_searched_and_offered_before_and_after_their_rows_are_built(
    tmp_path, make_article, editor
):
    records = [
        {"text": "Las elecciones en Moscú se celebran hoy.", "title": "Moscú vota"},
        {"text": "Kim Jong Un visitó Pekín el lunes.", "title": "Kim en Pekín"},
    ]
    run(write(tmp_path, "a.jsonl", jsonl(*records)), "--no-preannotate")
    imported = Article.objects.filter(batch__isnull=False)
    assert ArticleSearch.objects.filter(article__in=imported).pending().count() == 2
    # Pending: read from the articles' own title and body, with the same Spanish rules.
    assert found("elección") == ["Moscú vota"]
    assert found("moscu -pekín") == ["Moscú vota"]
    source = make_article("Ayer habló Kim Jong Un en la tele.")
    start = source.body.index("Kim")
    verbs.create_span(source, start, start + len("Kim Jong Un"), "PER", editor)
    assert Suggestion.objects.filter(article__title="Kim en Pekín").count() == 1

    assert index_articles.call() == 3  # the two imported articles and the one made here
    assert not ArticleSearch.objects.pending().exists()
    assert found("elección") == ["Moscú vota"]
    at_size()
    assert "articlesearch_document" in plan(Article.objects.matching("elección").order_by())
    assert "articlesearch_body_trgm" in plan(Article.objects.containing("Kim Jong Un").order_by())
    # A title changed later is searched under its new words.
    article = Article.objects.get(title="Moscú vota")
    article.title = "Votación en Rusia"
    article.save()
    assert found("votación") == ["Votación en Rusia"] and found("vota") == []
