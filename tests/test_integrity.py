"""PostgreSQL itself refuses bad spans, whatever the Python code does."""

import threading

import pytest
from django.db import IntegrityError, OperationalError, connection, transaction

from articles.models import Article, Label, Span, SpanEvent, content_hash
from tests import processes
from tests.conftest import WAIT, in_thread

pytestmark = pytest.mark.django_db


def insert_span(article: Article, start: int, end: int, label: str = "PER") -> None:
    """Writes around the ORM, as a buggy script or a direct SQL session would."""
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO articles_span (article_id, start, "end", label_id, origin, model_name, model_version,
                                          created_at, updated_at)
               VALUES (%s, %s, %s, (SELECT id FROM articles_label WHERE name = %s), 'editor', '', '', now(), now())""",
            [article.pk, start, end, label],
        )


def editor_span(article: Article, start: int, end: int, label: str = "PER") -> Span:
    return Span(article=article, start=start, end=end, label=Label.objects.get(name=label), origin=Span.Origin.EDITOR)


def refused(write, *args) -> str:
    with pytest.raises(IntegrityError) as error, transaction.atomic():
        write(*args)
    return str(error.value)


def test_it_refuses_a_span_with_start_at_or_after_end(make_article):
    article = make_article("Putin en Moscú")
    assert "span_start_before_end" in refused(insert_span, article, 5, 5)
    assert "span_start_before_end" in refused(insert_span, article, 6, 2)


def test_it_refuses_a_negative_start(make_article):
    # PositiveIntegerField's own check constraint catches it before ours.
    assert "start_check" in refused(insert_span, make_article("Putin en Moscú"), -1, 3)


def test_it_refuses_overlapping_spans(make_article):
    article = make_article("Vladimir Putin en Moscú")
    insert_span(article, 0, 14)
    assert "span_no_overlap" in refused(insert_span, article, 9, 17)
    assert "span_no_overlap" in refused(insert_span, article, 0, 14)
    insert_span(article, 18, 23, "LOC")  # touching is not overlapping
    assert Span.objects.filter(article=article).count() == 2


def test_it_refuses_overlapping_spans_written_in_one_statement(make_article):
    article = make_article("Vladimir Putin en Moscú")
    rows = [editor_span(article, 0, 14), editor_span(article, 9, 17)]
    assert f"spans 0-14 and 9-17 of article {article.pk} overlap" in refused(Span.objects.bulk_create, rows)
    assert not Span.objects.exists()


def test_it_refuses_moving_a_span_onto_another(make_article):
    article = make_article("Vladimir Putin en Moscú")
    insert_span(article, 0, 14)
    insert_span(article, 18, 23, "LOC")
    assert "span_no_overlap" in refused(lambda: Span.objects.filter(start=18).update(start=10))
    assert list(Span.objects.values_list("start", "end")) == [(0, 14), (18, 23)]


def test_the_checks_read_only_the_articles_and_spans_a_statement_touches(make_article):
    """What they cost follows the rows a statement writes, not the number of articles and spans
    stored. Sequential scans are ruled out, as the planner does for large tables."""
    bodies = [f"Putin en Moscú, nota {i}." for i in range(300)]
    articles = Article.objects.bulk_create(
        Article(title=body, body=body, body_length=len(body), content_hash=content_hash(body)) for body in bodies
    )
    Span.objects.bulk_create(editor_span(article, 0, 5) for article in articles)
    # Rows read by sequential scans of the tables, and entries read from their indexes.
    read = """SELECT sum(pg_stat_get_xact_tuples_returned(oid)) FROM pg_class
              WHERE oid = ANY(%(tables)s::regclass[])
                 OR oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = ANY(%(tables)s::regclass[]))"""
    tables = {"tables": ["articles_article", "articles_span"]}
    with connection.cursor() as cursor:
        # Planned now, with these settings and the tables' statistics as they are (ANALYZE, rolled
        # back with the test), not as cached by earlier statements on this connection.
        cursor.execute("ANALYZE articles_article, articles_span")
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL plan_cache_mode = force_custom_plan")
        cursor.execute(read, tables)
        before = cursor.fetchone()[0]
        insert_span(articles[0], 9, 14, "LOC")
        Span.objects.filter(article=articles[0], start=9).update(end=13)
        Span.objects.bulk_create(editor_span(article, 9, 14, "LOC") for article in articles[1:4])
        cursor.execute(read, tables)
        assert cursor.fetchone()[0] - before < 50  # of 300 articles and 304 spans


@pytest.mark.django_db(transaction=True)
def test_overlapping_spans_from_two_transactions_at_once_are_refused(make_article):
    """The second writer waits for the first one's commit, then sees its span."""
    article = make_article("Vladimir Putin en Moscú")
    inserted, finish, got = threading.Event(), threading.Event(), {}

    def first() -> None:
        with transaction.atomic():
            insert_span(article, 0, 14)
            inserted.set()
            finish.wait(WAIT)

    def second() -> None:
        with pytest.raises(IntegrityError) as error, transaction.atomic():
            insert_span(article, 9, 17)
        got["error"] = str(error.value)

    holder = in_thread(first)
    assert inserted.wait(WAIT)
    writer = in_thread(second)
    processes.wait_until(processes.waiting_for_a_lock, what="the second writer to wait for the first")
    finish.set()
    holder.join(WAIT)
    writer.join(WAIT)
    assert f"spans 0-14 and 9-17 of article {article.pk} overlap" in got["error"]
    assert list(Span.objects.values_list("start", "end")) == [(0, 14)]


@pytest.mark.django_db(transaction=True)
def test_spans_are_not_written_under_repeatable_read(make_article):
    """Its snapshot would miss another transaction's spans committed meanwhile."""
    article = make_article("Vladimir Putin en Moscú")
    with pytest.raises(OperationalError, match="REPEATABLE READ"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        insert_span(article, 0, 14)
    assert not Span.objects.exists()


def test_spans_of_different_articles_may_share_offsets(make_article):
    first, second = make_article("Putin en Moscú"), make_article("Moscú y Putin")
    insert_span(first, 0, 5)
    insert_span(second, 0, 5, "LOC")
    assert Span.objects.count() == 2


def test_it_refuses_a_span_past_the_end_of_the_body(make_article):
    article = make_article("Putin en Moscú")  # 14 code points
    insert_span(article, 9, 14)  # ends where the body does
    assert f"ends at 15 past the body of article {article.pk} (14 characters)" in refused(insert_span, article, 14, 15)


def test_one_span_past_the_body_refuses_the_whole_statement(make_article):
    good, short = make_article("Putin en Moscú"), make_article("Moscú")
    rows = [editor_span(good, 0, 5), editor_span(short, 0, 8, "LOC")]
    assert f"past the body of article {short.pk}" in refused(Span.objects.bulk_create, rows)
    assert not Span.objects.exists()


def test_it_refuses_moving_a_span_past_the_end_of_the_body(make_article):
    article = make_article("Putin en Moscú")
    insert_span(article, 9, 14)
    assert f"ends at 15 past the body of article {article.pk}" in refused(
        lambda: Span.objects.filter(article=article).update(end=15)
    )


def test_body_length_counts_code_points_not_bytes(make_article):
    article = make_article("Añadió 🇪🇸 en Ávila")
    assert article.body_length == len("Añadió 🇪🇸 en Ávila") == 18  # the flag is two code points
    insert_span(article, 13, 18, "LOC")
    assert Span.objects.get(article=article).text == "Ávila"


def test_it_refuses_an_unknown_label(make_article):
    assert "label_id" in refused(insert_span, make_article("Putin en Moscú"), 0, 5, "NOPE")


def test_it_refuses_a_second_article_with_the_same_body(make_article):
    make_article("Putin en Moscú", title="one")
    assert "content_hash" in refused(make_article, "Putin en Moscú")


def test_a_body_never_changes_after_import(make_article):
    article = make_article("Putin en Moscú")
    assert "never changes" in refused(
        lambda: Article.objects.filter(pk=article.pk).update(body="Putin en Kiev", body_length=13)
    )


def test_history_is_append_only(make_article):
    make_article("Putin en Moscú", spans=[(0, 5, "PER")])
    assert "append-only" in refused(lambda: SpanEvent.objects.update(after_label="LOC"))


def test_labels_have_valid_colours_and_unique_hotkeys(db):
    assert "label_color_hex" in refused(lambda: Label.objects.create(name="X", color="red"))
    assert "label_hotkey_unique" in refused(lambda: Label.objects.create(name="Y", color="#000000", hotkey="1"))


def test_the_default_labels_are_the_models_with_spanish_descriptions(db):
    labels = {label.name: label for label in Label.objects.all()}
    assert list(labels) == ["PER", "LOC", "ORG", "MISC"]
    assert labels["PER"].description.startswith("Persona")
    assert [label.hotkey for label in labels.values()] == ["1", "2", "3", "4"]


# The keys of spans, checked once per statement (no row-by-row foreign key) ---------------------------


def raw(sql: str, *params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


SPAN_ROW = """INSERT INTO articles_span (article_id, start, "end", label_id, origin, model_name, model_version,
                                         created_by_id, created_at, updated_at)
              VALUES (%s, 0, 5, %s, 'editor', '', '', %s, now(), now())"""


def test_it_refuses_a_span_of_a_missing_article_label_or_user(make_article, editor):
    article, label = make_article("Putin en Moscú"), Label.objects.get(name="PER")
    assert "a span names article 999999, which does not exist" in refused(raw, SPAN_ROW, 999999, label.pk, None)
    assert "a span names label 999999, which does not exist" in refused(raw, SPAN_ROW, article.pk, 999999, None)
    assert "a span names user 999999, which does not exist" in refused(raw, SPAN_ROW, article.pk, label.pk, 999999)
    updated_by = SPAN_ROW.replace("created_by_id", "updated_by_id")
    assert "a span names user 999999, which does not exist" in refused(raw, updated_by, article.pk, label.pk, 999999)
    # Of two statements' worth of problems, the first in order of the checks is the one refused.
    assert "a span names article 999999" in refused(raw, SPAN_ROW, 999999, 999998, 999997)
    assert "a span names label 999998" in refused(raw, SPAN_ROW, article.pk, 999998, 999997)
    assert not Span.objects.exists()
    raw(SPAN_ROW, article.pk, label.pk, editor.pk)
    span = Span.objects.get()
    for column, what in [("label_id", "label"), ("updated_by_id", "user"), ("article_id", "article")]:
        update = f"UPDATE articles_span SET {column} = 999999 WHERE id = %s"  # noqa: S608 (the test's own columns)
        assert f"a span names {what} 999999, which does not exist" in refused(raw, update, span.pk)


def test_deleting_what_spans_still_name_is_refused_unless_the_app_deletes_them_first(make_article, editor):
    article, label = make_article("Putin en Moscú"), Label.objects.get(name="PER")
    raw(SPAN_ROW, article.pk, label.pk, editor.pk)
    assert f"row {article.pk} of articles_article is still named by spans" in refused(
        raw, "DELETE FROM articles_article WHERE id = %s", article.pk
    )
    assert "articles_label is still named by spans" in refused(
        raw, "DELETE FROM articles_label WHERE id = %s", label.pk
    )
    assert "auth_user is still named by spans" in refused(raw, "DELETE FROM auth_user WHERE id = %s", editor.pk)
    # The app empties or deletes them first, as the foreign keys had it do.
    editor.delete()
    assert Span.objects.get().created_by is None
    article.delete()
    assert not Span.objects.exists()
