"""One of every object the app shows, each holding the attack inputs: what the role, escaping and
query tests walk through (and the browser test shows)."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from articles.editing import verbs
from articles.models import (
    Annotation,
    Article,
    Export,
    ImportBatch,
    Label,
    ReferenceSpan,
    Span,
    SpanEvent,
    Suggestion,
)
from articles.quality import figures as quality
from articles.site import accounts
from tests.conftest import PASSWORD
from tests.security.attacks import IMG_ONERROR, JAVASCRIPT_LINK, LABEL_NAME, SCRIPT_BREAKOUT, SVG_ONLOAD, USERNAME

BODY = f"Putin {SVG_ONLOAD} visitó {IMG_ONERROR} y {SCRIPT_BREAKOUT} en {JAVASCRIPT_LINK} hoy."
TITLE = f"{SCRIPT_BREAKOUT} {SVG_ONLOAD}"


def at(body: str, text: str) -> tuple[int, int]:
    start = body.index(text)
    return start, start + len(text)


@dataclass
class World:
    villain: AbstractBaseUser  # an editor whose username is markup
    label: Label
    reviewed: Article  # reviewed by the villain, so the quality page has corrections to show
    article: Article  # pre-annotated, with spans and a pending suggestion
    span: Span
    event: SpanEvent
    suggestion: Suggestion
    batch: ImportBatch  # refused, with its errors
    checked_batch: ImportBatch  # waiting for confirmation, with its preview
    export: Export
    double: Article  # in the double-annotation sample, both versions finished, one disagreement

    def ids(self) -> dict[str, int]:
        return {"article": self.article.pk, "span": self.span.pk, "batch": self.checked_batch.pk}


def build(make_article) -> World:
    villain = accounts.set_user(USERNAME, accounts.EDITOR, PASSWORD, validate=False)[0]
    label = Label.objects.create(
        name=LABEL_NAME, description=f"{SCRIPT_BREAKOUT} {SVG_ONLOAD} {IMG_ONERROR}", color="#ffffff", order=9
    )
    batch = ImportBatch.objects.create(
        name=f"{IMG_ONERROR}.csv",
        created_by=villain,
        status=ImportBatch.Status.FAILED,
        files=[{"name": f"{SVG_ONLOAD}.csv", "size": 10}],
        errors=[f"{SCRIPT_BREAKOUT}.csv, line 2: unknown label “{IMG_ONERROR}”"],
        finished_at=timezone.now(),
    )
    checked_batch = ImportBatch.objects.create(
        name=f"{SVG_ONLOAD}.jsonl",
        created_by=villain,
        status=ImportBatch.Status.CHECKED,
        files=[{"name": f"{SCRIPT_BREAKOUT}.jsonl", "size": 20}],
        preview={
            "articles": 1,
            "duplicates": 0,
            "spans": 1,
            "sample_titles": [TITLE],
            "labels_to_create": [LABEL_NAME],
        },  # fmt: skip
    )
    spans = [(*at(BODY, SVG_ONLOAD), "PER"), (*at(BODY, IMG_ONERROR), "LOC"), (*at(BODY, SCRIPT_BREAKOUT), "ORG")]
    reviewed = make_article(BODY, spans=spans, title=TITLE, source=JAVASCRIPT_LINK, batch=batch)
    by_text = {s.text: s for s in reviewed.spans.select_related("label", "article")}
    verbs.relabel_span(by_text[SVG_ONLOAD], LABEL_NAME, villain)
    verbs.delete_span(by_text[IMG_ONERROR], villain)
    verbs.create_span(reviewed, *at(BODY, JAVASCRIPT_LINK), "PER", villain)
    verbs.mark_reviewed(reviewed, villain)
    quality.refresh()

    body = f"Otra vez {SVG_ONLOAD} y {IMG_ONERROR}, {SCRIPT_BREAKOUT}."
    article = make_article(body, spans=[(*at(body, SVG_ONLOAD), "PER")], title=f"{IMG_ONERROR} dos")
    span = article.spans.get()
    verbs.relabel_span(span, LABEL_NAME, villain)
    article.refresh_from_db()
    suggestion = Suggestion.objects.create(
        article=article, start=at(body, IMG_ONERROR)[0], end=at(body, IMG_ONERROR)[1], label=label, source_span_id=0
    )
    ReferenceSpan.objects.create(article=article, start=0, end=4, source=SVG_ONLOAD)
    make_article(f"Fallido {IMG_ONERROR}.", title=SVG_ONLOAD, preannotation_error=f"model said {SCRIPT_BREAKOUT}")
    export = Export.objects.create(
        created_by=villain, format=Export.Format.CSV, filters=f"label={SVG_ONLOAD}", finished_at=timezone.now()
    )
    double = make_article(body.replace("Otra", "Tercera"), spans=[(*at(body, SVG_ONLOAD), "PER")], double=True)
    second = accounts.set_user(f"{USERNAME}2", accounts.EDITOR, PASSWORD, validate=False)[0]
    for who in (villain, second):
        version = Annotation.objects.claim(double, who)
        if who == second:
            verbs.create_span(version, *at(double.body, IMG_ONERROR), LABEL_NAME, who)
        verbs.mark_reviewed(version, who)
    return World(
        double=double,
        villain=villain,
        label=label,
        reviewed=reviewed,
        article=article,
        span=span,
        event=article.events.last(),
        suggestion=suggestion,
        batch=batch,
        checked_batch=checked_batch,
        export=export,
    )


def article_content_type() -> ContentType:
    return ContentType.objects.get_for_model(Article)
