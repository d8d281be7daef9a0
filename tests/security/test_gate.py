"""The one gate of every change of spans, as a table: each change route × each state an article can be
in × each persona → the answer written down below, where the change landed, and, on every refusal, a
database left exactly as it was. A route that changes spans without its row fails the suite.

Personas: ``holder``, the editor working on the article (under double annotation, the first of its
two editors); ``other``, another editor; ``reviewer``, who holds no version; ``admin_annotator``, an
admin who is the second editor of an article annotated twice (on an ordinary article, an admin).
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import URLPattern, get_resolver

from articles.editing import verbs
from articles.models import Annotation, Article, Decision, Span, SpanEvent, Suggestion, VersionSpan
from articles.review import adjudication
from articles.site import accounts
from tests.conftest import PASSWORD, post_as_page

pytestmark = pytest.mark.django_db

BODY = "Putin visitó Moscú con Kim Jong Un. Después Putin volvió a Moscú."
PUTIN, MOSCU, KIM = (0, 5), (13, 18), (23, 34)
LATER_PUTIN = BODY.index("Putin", 10)
FREE = (BODY.index("volvió"), BODY.index("volvió") + 6)
PERSONAS = ("holder", "other", "reviewer", "admin_annotator")
STATES = (
    "new",
    "pre_annotated",
    "in_review",
    "reviewed",
    "double_open",  # both versions started, neither finished
    "double_finished",  # both finished, adjudication not begun
    "adjudicating",  # adjudication begun
    "adjudicated",  # adjudicated: reviewed
)


@dataclass
class Case:
    article: Article
    users: dict[str, object]
    suggestion: Suggestion

    def scope_of(self, persona: str) -> Article | Annotation:
        version = Annotation.objects.filter(article=self.article, editor=self.users[persona]).first()
        return version if version is not None else self.article

    def version(self, persona: str) -> int:
        scope = self.scope_of(persona)
        scope.refresh_from_db()
        return scope.version

    def span_id(self, persona: str) -> int:
        """The span at "Moscú" in what this persona sees: their version, or the article."""
        scope = self.scope_of(persona)
        model = VersionSpan if isinstance(scope, Annotation) else Span
        field = "annotation" if isinstance(scope, Annotation) else "article"
        return model.objects.get(**{field: scope, "start": MOSCU[0]}).pk


def _users(editor, other_editor, reviewer, admin) -> dict[str, object]:
    return {"holder": editor, "other": other_editor, "reviewer": reviewer, "admin_annotator": admin}


@pytest.fixture
def users(editor, other_editor, admin):
    reviewer = accounts.set_user("rita", accounts.REVIEWER, PASSWORD, validate=False)[0]
    return _users(editor, other_editor, reviewer, admin)


def build(state: str, users: dict[str, object], make_article) -> Case:
    holder, reviewer, second = users["holder"], users["reviewer"], users["admin_annotator"]
    spans = [(*PUTIN, "PER"), (*MOSCU, "LOC")]
    if state == "new":
        article = make_article(BODY, title="Nueva")
        verbs.create_span(article, *PUTIN, "PER", second)
        verbs.create_span(article, *MOSCU, "LOC", second)
        Article.objects.filter(pk=article.pk).update(status=Article.Status.NEW)
    else:
        article = make_article(BODY, spans=spans, title="Nota", double=state.startswith(("double", "adjud")))
    if state == "in_review":
        verbs.accept_span(article.spans.get(start=PUTIN[0]), holder)
    if state == "reviewed":
        verbs.mark_reviewed(article, holder)
    if article.double:
        # Both editors add Kim as LOC (agreed); the first makes Moscú an ORG (a disagreement).
        for who in (holder, second):
            version = Annotation.objects.claim(article, who)
            verbs.create_span(version, *KIM, "LOC", who)
            if who == holder:
                verbs.relabel_span(version.spans.get(start=MOSCU[0]), "ORG", who)
            if state != "double_open":
                verbs.mark_reviewed(version, who)
        article.refresh_from_db()
        if state in ("adjudicating", "adjudicated"):
            adjudication.take_side(article, *MOSCU, "2", reviewer, version=article.version)
        if state == "adjudicated":
            adjudication.finish(article, reviewer, version=Article.objects.get(pk=article.pk).version)
    article.refresh_from_db()
    # A suggestion left from before the article's state (in a double or reviewed article, a forged one).
    Suggestion.objects.filter(article=article).delete()
    suggestion = Suggestion.objects.create(
        article=article, start=LATER_PUTIN, end=LATER_PUTIN + 5, label=Span.objects.get(start=0).label, source_span_id=0
    )
    return Case(article, users, suggestion)


def snapshot(article: Article) -> tuple:
    """Everything a change of spans could touch."""
    pk = article.pk
    fields = ("version", "status", "reviewed_by", "updated_by", "leased_by", "adjudication_started_at")
    return (
        list(Article.objects.filter(pk=pk).values_list(*fields)),
        list(
            Span.objects.filter(article_id=pk).order_by("pk").values_list("pk", "start", "end", "label", "updated_by")
        ),
        list(VersionSpan.objects.filter(article_id=pk).order_by("pk").values_list("pk", "start", "end", "label")),
        list(Annotation.objects.filter(article_id=pk).order_by("pk").values_list("pk", "version", "finished_at")),
        list(Suggestion.objects.filter(article_id=pk).order_by("pk").values_list("pk", "status")),
        list(Decision.objects.filter(article_id=pk).order_by("pk").values_list("pk", "choice")),
        SpanEvent.objects.filter(article_id=pk).count(),
    )


def landed(before: tuple, after: tuple) -> str | None:
    """Where a change landed: the article's own spans (or its state), an editor's version, or nowhere."""
    article = before[:2] != after[:2] or before[4:6] != after[4:6]
    version = before[2:4] != after[2:4]
    return "article" if article else "version" if version else None


# The change routes, each sent the way the page sends it.
Route = Callable[[Client, Case, str], object]


def _span_route(action: str, data: Callable[[Case, str], dict] = lambda case, persona: {}) -> Route:
    def send(client: Client, case: Case, persona: str):
        url = f"/articles/{case.article.pk}/spans/{case.span_id(persona)}/{action}"
        return post_as_page(
            client, url, {"version": case.version(persona), **data(case, persona)}, HTTP_HX_REQUEST="true"
        )

    return send


def _article_route(path: str, data: Callable[[Case, str], dict] = lambda case, persona: {}) -> Route:
    def send(client: Client, case: Case, persona: str):
        url = f"/articles/{case.article.pk}/{path}"
        return post_as_page(
            client, url, {"version": case.version(persona), **data(case, persona)}, HTTP_HX_REQUEST="true"
        )

    return send


def _suggestion_route(action: str) -> Route:
    def send(client: Client, case: Case, persona: str):
        url = f"/suggestions/{case.suggestion.pk}/{action}"
        return post_as_page(client, url, {"version": case.version(persona)}, HTTP_HX_REQUEST="true")

    return send


def _decide(client: Client, case: Case, persona: str):
    data = {"start": MOSCU[0], "end": MOSCU[1], "side": "1", "version": Article.objects.get(pk=case.article.pk).version}
    return post_as_page(client, f"/articles/{case.article.pk}/adjudicate/decide", data, HTTP_HX_REQUEST="true")


def _finish(client: Client, case: Case, persona: str):
    data = {"version": Article.objects.get(pk=case.article.pk).version}
    return post_as_page(client, f"/articles/{case.article.pk}/adjudicate/finish", data, HTTP_HX_REQUEST="true")


ROUTES: dict[str, Route] = {
    "articles/<int:pk>/spans/": _article_route(
        "spans/", lambda case, persona: {"start": FREE[0], "end": FREE[1], "label": "MISC"}
    ),
    "articles/<int:pk>/spans/<int:span_id>/label": _span_route("label", lambda case, persona: {"label": "MISC"}),
    "articles/<int:pk>/spans/<int:span_id>/accept": _span_route("accept"),
    "articles/<int:pk>/spans/<int:span_id>/resize": _span_route(
        "resize", lambda case, persona: {"edge": "end", "by": "1"}
    ),
    "articles/<int:pk>/spans/<int:span_id>/delete": _span_route("delete"),
    "articles/<int:pk>/spans/<int:span_id>/everywhere": _span_route("everywhere"),
    "articles/<int:pk>/spans/accept": _article_route("spans/accept"),
    "articles/<int:pk>/undo": _article_route("undo"),
    "articles/<int:pk>/review": _article_route("review"),
    "suggestions/<int:pk>/accept": _suggestion_route("accept"),
    "suggestions/<int:pk>/dismiss": _suggestion_route("dismiss"),
    "articles/<int:pk>/adjudicate/decide": _decide,
    "articles/<int:pk>/adjudicate/finish": _finish,
}

# POST routes that change no spans: why each is outside the table.
NOT_SPAN_CHANGES = {
    "articles/next/": "leases the next article",
    "articles/<int:pk>/claim": "starts the editor's own version as a copy of the article's spans (no change)",
    "review/share": "the double-annotation share",
    "upload/<int:pk>/confirm/": "imports new articles only (a body already present is skipped)",
    "quality/train": "trains a model",
    "accounts/logout/": "",
    "i18n/setlang/": "",
    "admin/logout/": "",
}

# The answer of a route that changes an article's spans or the user's version of them, by state and
# persona, with where it lands. 200 on an ordinary article for anyone who corrects; under double
# annotation each of its editors changes their own version until finishing it (409 after), others
# 403, and the article's own spans wait for a reviewer who annotated neither version to begin the
# adjudication (409 before).
ORDINARY = {persona: (200, "article") for persona in PERSONAS}
SPANS = {
    "new": ORDINARY,
    "pre_annotated": ORDINARY,
    "in_review": ORDINARY,
    "reviewed": ORDINARY,
    "double_open": {"holder": (200, "version"), "other": 403, "reviewer": 409, "admin_annotator": (200, "version")},
    "double_finished": {"holder": 409, "other": 403, "reviewer": 409, "admin_annotator": 409},
    "adjudicating": {"holder": 409, "other": 403, "reviewer": (200, "article"), "admin_annotator": 409},
    "adjudicated": {"holder": 409, "other": 403, "reviewer": (200, "article"), "admin_annotator": 409},
}
# Marking reviewed: an editor's version is finished (it lands on the version); the article's own
# spans of an article annotated twice are reviewed only by finishing its adjudication.
REVIEW = SPANS | {
    "adjudicating": SPANS["adjudicating"] | {"reviewer": 409},
    "adjudicated": SPANS["adjudicated"] | {"reviewer": 409},
}
# Suggestions: decided by anyone who may change the article, in an ordinary article not reviewed;
# a reviewed article, or an article annotated twice, takes none (409), and who may not change the
# article at all gets 403 first.
NO_SUGGESTIONS = {persona: 409 for persona in PERSONAS}
SUGGESTIONS = {
    "new": ORDINARY,
    "pre_annotated": ORDINARY,
    "in_review": ORDINARY,
    "reviewed": NO_SUGGESTIONS,
    "double_open": {"holder": 403, "other": 403, "reviewer": 409, "admin_annotator": 403},
    "double_finished": {"holder": 403, "other": 403, "reviewer": 409, "admin_annotator": 403},
    "adjudicating": {"holder": 403, "other": 403, "reviewer": 409, "admin_annotator": 403},
    "adjudicated": {"holder": 403, "other": 403, "reviewer": 409, "admin_annotator": 403},
}
# Adjudication: reviewers and admins only (editors 403 by role), never one of the two editors (403),
# an article annotated twice (404 otherwise) whose two versions are finished (422 before).
NOT_DOUBLE = {"holder": 403, "other": 403, "reviewer": 404, "admin_annotator": 404}
ADJUDICATION = {
    "new": NOT_DOUBLE,
    "pre_annotated": NOT_DOUBLE,
    "in_review": NOT_DOUBLE,
    "reviewed": NOT_DOUBLE,
    "double_open": {"holder": 403, "other": 403, "reviewer": 422, "admin_annotator": 403},
    "double_finished": {"holder": 403, "other": 403, "reviewer": (200, "article"), "admin_annotator": 403},
    "adjudicating": {"holder": 403, "other": 403, "reviewer": (200, "article"), "admin_annotator": 403},
    "adjudicated": {"holder": 403, "other": 403, "reviewer": (200, "article"), "admin_annotator": 403},
}
# Finishing with the disagreement settled (adjudicating, adjudicated) reviews the article; before
# any decision the disagreement is open (422).
FINISH = ADJUDICATION | {"double_finished": ADJUDICATION["double_finished"] | {"reviewer": 422}}

EXPECTED = {route: SPANS for route in ROUTES} | {
    "articles/<int:pk>/review": REVIEW,
    "suggestions/<int:pk>/accept": SUGGESTIONS,
    "suggestions/<int:pk>/dismiss": SUGGESTIONS,
    "articles/<int:pk>/adjudicate/decide": ADJUDICATION,
    "articles/<int:pk>/adjudicate/finish": FINISH,
}


# Routes that may answer 200 having found nothing to do: nothing of this user's to undo, no other
# occurrence to label, no untouched model span to accept.
MAY_FIND_NOTHING = {
    "articles/<int:pk>/undo",
    "articles/<int:pk>/spans/<int:span_id>/everywhere",
    "articles/<int:pk>/spans/accept",
}


def _patterns(patterns=None, prefix: str = "") -> set[str]:
    found = set()
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLPattern):
            found.add(prefix + str(pattern.pattern))
        else:
            found |= _patterns(pattern.url_patterns, prefix + str(pattern.pattern))
    return found


def test_every_post_route_is_in_the_table_or_says_why_not():
    from tests.security.test_roles import EXPECTATIONS

    posts = {path for path, expect in EXPECTATIONS.items() if expect.method == "POST"}
    assert posts <= _patterns()
    assert sorted(posts - set(ROUTES) - set(NOT_SPAN_CHANGES)) == []


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("route", list(ROUTES))
def test_the_gate(route, state, persona, users, make_article):
    case = build(state, users, make_article)
    client = Client(enforce_csrf_checks=True)
    client.force_login(users[persona])
    before = snapshot(case.article)
    response = ROUTES[route](client, case, persona)
    after = snapshot(case.article)
    expected = EXPECTED[route][state][persona]
    status, where = expected if isinstance(expected, tuple) else (expected, None)
    assert response.status_code == status, response.content.decode()[:300]
    if status >= 400:
        assert after == before, "a refusal changed the database"
    elif route not in MAY_FIND_NOTHING:
        assert landed(before, after) == where
