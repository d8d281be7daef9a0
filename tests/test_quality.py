"""Quality figures: the model's proposals (from the history) against the editors' final spans."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from articles.editing import verbs
from articles.models import Article, ReferenceSpan
from articles.nlp import pipeline, store
from articles.quality import figures as quality

pytestmark = pytest.mark.django_db

BODY = "Vladimir Putin visitó Moscú con Kim Jong Un y la OTAN en Bruselas."


def at(text: str, body: str = BODY) -> tuple[int, int]:
    start = body.index(text)
    return start, start + len(text)


def reviewed_article(make_article, editor, title: str = "Cumbre") -> Article:
    """The model: Putin PER, Moscú LOC (right), Kim PER (too short), OTAN LOC (wrong label), visitó MISC
    (spurious), Bruselas missed. The editor fixes all of it and marks the article reviewed."""
    article = make_article(
        f"{BODY} {title}.",
        title=title,
        spans=[
            (*at("Vladimir Putin"), "PER"),
            (*at("visitó"), "MISC"),
            (*at("Moscú"), "LOC"),
            (*at("Kim"), "PER"),
            (*at("OTAN"), "LOC"),
        ],
    )
    spans = {s.text: s for s in article.spans.select_related("label", "article")}
    verbs.resize_span(spans["Kim"], *at("Kim Jong Un"), editor)
    verbs.relabel_span(spans["OTAN"], "ORG", editor)
    verbs.delete_span(spans["visitó"], editor)
    verbs.create_span(article, *at("Bruselas"), "LOC", editor)
    return verbs.mark_reviewed(article, editor)


def test_it_scores_the_model_against_the_editors_final_spans(make_article, editor):
    first = reviewed_article(make_article, editor)
    figures = quality.model_quality()
    assert figures["articles"] == 1
    overall = figures["overall"]
    assert (overall["predicted"], overall["expected"]) == (5, 5)
    # Exact: Putin and Moscú of five on each side; overlap adds Kim / Kim Jong Un (same label).
    assert overall["exact"] == {"p": 0.4, "r": 0.4, "f": pytest.approx(0.4)}
    assert overall["overlap"] == {"p": 0.6, "r": 0.6, "f": pytest.approx(0.6)}
    labels = {row["label"]: row for row in figures["labels"]}
    assert labels["PER"]["exact"] == {"p": 0.5, "r": 0.5, "f": 0.5}
    assert labels["PER"]["overlap"] == {"p": 1.0, "r": 1.0, "f": 1.0}
    assert labels["ORG"]["predicted"] == 0 and labels["ORG"]["exact"]["r"] == 0.0
    assert labels["ORG"]["exact"]["p"] is None
    assert labels["MISC"]["expected"] == 0 and labels["MISC"]["exact"]["p"] == 0.0
    corrections = figures["corrections"]
    assert corrections["missed"]["top"] == [
        {"text": "Bruselas", "label": "LOC", "model_text": None, "model_label": None, "n": 1, "articles": [first.pk]}
    ]
    assert corrections["spurious"]["top"][0] | {"articles": None} == {
        "text": None,
        "label": None,
        "model_text": "visitó",
        "model_label": "MISC",
        "n": 1,
        "articles": None,
    }
    assert [(c["model_text"], c["model_label"], c["text"], c["label"]) for c in corrections["wrong_label"]["top"]] == [
        ("OTAN", "LOC", "OTAN", "ORG")
    ]
    assert [(c["model_text"], c["text"], c["label"]) for c in corrections["wrong_boundary"]["top"]] == [
        ("Kim", "Kim Jong Un", "PER")
    ]


def test_the_most_frequent_corrections_come_first_with_examples(make_article, editor):
    ids = [reviewed_article(make_article, editor, f"Cumbre {n}").pk for n in range(2)]
    other = make_article("Ayer en Bruselas llovió.", spans=[(*at("Ayer", "Ayer en Bruselas llovió."), "MISC")])
    verbs.delete_span(other.spans.get(), editor)
    verbs.create_span(other, 0, 4, "PER", editor)
    verbs.mark_reviewed(other, editor)
    corrections = quality.model_quality()["corrections"]
    assert corrections["missed"]["top"][0]["text"] == "Bruselas"
    assert corrections["missed"]["top"][0]["articles"] == ids
    assert corrections["missed"]["total"] == 2
    # "Ayer": the model said MISC, the editor PER, at the same place: a wrong label.
    assert corrections["wrong_label"]["total"] == 3
    assert [(c["text"], c["n"]) for c in corrections["wrong_label"]["top"]] == [("OTAN", 2), ("Ayer", 1)]


def test_articles_not_reviewed_are_not_counted(make_article, editor):
    make_article(BODY, spans=[(*at("Moscú"), "LOC")])
    figures = quality.model_quality()
    assert figures["articles"] == 0 and figures["overall"]["exact"] == {"p": None, "r": None, "f": None}


def test_quality_over_time_is_per_model_version(make_article, editor):
    reviewed_article(make_article, editor)
    newer = make_article("La OTAN se reúne.", spans=[(3, 7, "ORG")])
    store.store_model_output({newer.pk: [pipeline.ModelSpan(3, 7, "ORG")]}, "annotator_ner", "2")
    verbs.mark_reviewed(newer, editor)
    series = {row["model"]: row for row in quality.model_quality()["over_time"]}
    assert series.keys() == {"test_model 1.0", "annotator_ner 2"}
    assert series["annotator_ner 2"]["exact"]["f"] == 1.0
    assert series["test_model 1.0"]["exact"]["f"] == pytest.approx(0.4)
    assert series["annotator_ner 2"]["day"] == timezone.now().date().isoformat()


def test_reference_highlights_are_compared_by_edges_only(make_article):
    article = make_article(BODY, spans=[(*at("Vladimir Putin"), "PER"), (*at("Kim"), "PER"), (*at("OTAN"), "ORG")])
    for text in ["Vladimir Putin", "Kim Jong Un", "Bruselas"]:
        ReferenceSpan.objects.create(article=article, start=at(text)[0], end=at(text)[1], source="test")
    figures = quality.reference_quality()
    assert figures["articles"] == 1
    assert figures["overall"]["exact"]["p"] == pytest.approx(1 / 3)
    assert figures["overall"]["exact"]["r"] == pytest.approx(1 / 3)
    # OTAN overlaps nothing; Kim overlaps Kim Jong Un.
    assert figures["overall"]["overlap"]["p"] == pytest.approx(2 / 3)
    assert [row["label"] for row in figures["labels"]] == [""]


def test_a_fresh_install_shows_the_model_against_the_seed_highlights():
    call_command("load_seeds", stdout=StringIO())
    call_command("preannotate", stdout=StringIO())
    figures = quality.reference_quality()
    assert figures["articles"] == 1
    assert figures["overall"]["expected"] == 66
    assert 0.2 < figures["overall"]["overlap"]["r"] < 1


def _insert_events(article: Article, user, seconds: list[int], kind: str = "created") -> None:
    """History rows at chosen times (the verbs stamp the current time)."""
    t0 = timezone.now() - timedelta(days=1)
    with connection.cursor() as cursor:
        for i, offset in enumerate(seconds):
            cursor.execute(
                """INSERT INTO articles_spanevent (article_id, span_id, kind, origin, actor_id, at, article_version,
                   before_label, after_label, model) VALUES (%s, %s, %s, 'editor', %s, %s, 1, '', 'PER', '')""",
                [article.pk, 10_000 + i, kind, user.pk, t0 + timedelta(seconds=offset)],
            )


def test_effort_counts_each_editors_changes_and_time_with_long_pauses_capped(make_article, editor, other_editor):
    article = reviewed_article(make_article, editor)
    later = make_article("Otra noticia sin nombres.", title="Otra")
    # 30 s, 60 s, then a two-hour pause that counts as five minutes.
    _insert_events(later, other_editor, [0, 30, 90, 90 + 7200])
    figures = quality.effort()
    editors = {row["editor"]: row for row in figures["editors"]}
    assert editors["eddie"] | {"seconds": None} == {
        "editor": "eddie",
        "articles": 1,
        "changes": 4,
        "created": 1,
        "relabelled": 1,
        "resized": 1,
        "deleted": 1,
        "accepted": 0,
        "restored": 0,
        "seconds": None,
        "reviewed": 1,
    }
    assert editors["erin"]["seconds"] == 30 + 60 + 300
    assert editors["erin"]["reviewed"] == 0
    assert figures["articles"][0]["article_id"] == later.pk and figures["articles"][0]["title"] == "Otra"
    assert {row["article_id"] for row in figures["articles"]} == {article.pk, later.pk}
    assert figures["status"] == {"reviewed": 1, "new": 1}
    assert figures["per_day"] == [{"day": timezone.now().date().isoformat(), "reviewed": 1}]


def test_evaluate_prints_the_figures(make_article, editor):
    reviewed_article(make_article, editor)
    out = StringIO()
    call_command("evaluate", stdout=out)
    text = out.getvalue()
    assert "Model against editors: 1 reviewed articles" in text
    assert "overall" in text and "40.0%" in text and "60.0%" in text
    assert "missed" in text and "Bruselas" in text and f"/articles/{Article.objects.get().pk}/" in text
    assert "Seed reference" in text
    assert quality.cached() is not None
