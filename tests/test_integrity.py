"""PostgreSQL itself refuses bad spans, whatever the Python code does."""

import pytest
from django.db import IntegrityError, connection, transaction

from articles.models import Article, Label, Span, SpanEvent

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
    rows = [Span(article=good, start=0, end=5, label=Label.objects.get(name="PER"), origin=Span.Origin.EDITOR)]
    rows.append(Span(article=short, start=0, end=8, label=Label.objects.get(name="LOC"), origin=Span.Origin.EDITOR))
    assert f"past the body of article {short.pk}" in refused(Span.objects.bulk_create, rows)
    assert not Span.objects.exists()


def test_it_refuses_moving_a_span_past_the_end_of_the_body(make_article):
    article = make_article("Putin en Moscú")
    insert_span(article, 9, 14)
    assert "ends past the body" in refused(lambda: Span.objects.filter(article=article).update(end=15))


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
