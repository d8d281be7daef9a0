"""Next article: the next article needing review that no other editor has open, held by a lease.
Taking work is a POST; opening an article's page claims nothing."""

import threading
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from articles.editing import verbs
from articles.models import LEASE, Article
from articles.queue import leases
from articles.site import accounts
from tests.conftest import PASSWORD, WAIT, in_thread, post_as_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(make_article) -> list[Article]:
    """Three articles needing review, one reviewed, one not pre-annotated yet."""
    made = [make_article(f"Artículo {i}.", title=f"Nota {i}", status=Article.Status.PRE_ANNOTATED) for i in range(3)]
    make_article("Ya revisado.", status=Article.Status.REVIEWED)
    make_article("Sin anotar.", status=Article.Status.NEW)
    return made


def held() -> dict[int, str]:
    return {
        a.pk: a.leased_by.username for a in Article.objects.filter(leased_by__isnull=False).select_related("leased_by")
    }


def nxt(client: Client, after: object = None, **extra):
    return post_as_page(client, "/articles/next/", {"after": after} if after is not None else {}, **extra)


def test_next_article_opens_the_first_article_needing_review_and_leases_it(as_editor, editor, queue):
    before = timezone.now()
    response = nxt(as_editor)
    assert (response.status_code, response.url) == (302, f"/articles/{queue[0].pk}/")
    article = Article.objects.get(pk=queue[0].pk)
    assert article.leased_by == editor
    assert before + LEASE <= article.leased_until <= timezone.now() + LEASE
    # A lease is not an edit: version and status stay.
    assert (article.version, article.status) == (queue[0].version, Article.Status.PRE_ANNOTATED)


def test_another_editor_gets_another_article(as_editor, other_editor, queue):
    nxt(as_editor)
    other = leases.lease_next(other_editor)
    assert other.pk == queue[1].pk
    assert held() == {queue[0].pk: "eddie", queue[1].pk: "erin"}


def test_asking_again_gives_the_same_article_back(as_editor, queue):
    assert nxt(as_editor).url == nxt(as_editor).url == f"/articles/{queue[0].pk}/"


def test_leaving_an_article_gives_it_back_and_moves_on_wrapping_around(as_editor, other_editor, queue):
    leases.lease_next(other_editor)  # erin holds the first
    assert nxt(as_editor).url == f"/articles/{queue[1].pk}/"
    assert nxt(as_editor, queue[1].pk).url == f"/articles/{queue[2].pk}/"
    assert held() == {queue[0].pk: "erin", queue[2].pk: "eddie"}
    # From the last one it wraps to the start, skipping erin's.
    assert nxt(as_editor, queue[2].pk).url == f"/articles/{queue[1].pk}/"


def test_an_expired_lease_frees_the_article(editor, other_editor, queue):
    leases.lease_next(other_editor)
    Article.objects.filter(pk=queue[0].pk).update(leased_until=timezone.now() - timedelta(seconds=1))
    assert leases.lease_next(editor).pk == queue[0].pk


def test_marking_reviewed_releases_the_lease_and_the_article_leaves_the_queue(editor, other_editor, queue):
    article = leases.lease_next(editor)
    verbs.mark_reviewed(Article.objects.get(pk=article.pk), editor)
    assert held() == {}
    assert leases.lease_next(other_editor).pk == queue[1].pk
    assert leases.lease_next(editor, after_id=article.pk).pk == queue[2].pk


def test_working_on_an_article_renews_the_lease_but_never_takes_another_editors(editor, other_editor, queue):
    leases.lease_next(editor)
    Article.objects.filter(pk=queue[0].pk).update(leased_until=timezone.now() + timedelta(minutes=1))
    verbs.create_span(queue[0], 0, 8, "MISC", editor)
    assert Article.objects.get(pk=queue[0].pk).leased_until > timezone.now() + LEASE - timedelta(minutes=1)
    verbs.create_span(queue[0], 9, 10, "MISC", other_editor)  # erin edits too: allowed, not taken
    assert held() == {queue[0].pk: "eddie"}
    # Changing a free article takes it, and starts its review.
    verbs.create_span(queue[1], 0, 8, "MISC", other_editor)
    assert Article.objects.get(pk=queue[1].pk).status == Article.Status.IN_REVIEW
    assert held() == {queue[0].pk: "eddie", queue[1].pk: "erin"}


def test_opening_an_article_claims_nothing(as_editor, queue):
    """A link on another site, or a preview, must not take work: a GET changes no lease, no status."""
    html = as_editor.get(f"/articles/{queue[1].pk}/").content.decode()
    assert "Nota 1" in html
    article = Article.objects.get(pk=queue[1].pk)
    assert (article.status, article.leased_by, article.version) == (Article.Status.PRE_ANNOTATED, None, 1)
    assert held() == {}


def test_when_nothing_is_left_it_says_so_on_the_list(as_editor, editor, other_editor, queue):
    for _ in queue[1:]:
        leases.lease_next(accounts.set_user(f"ed{_.pk}", accounts.EDITOR, PASSWORD, validate=False)[0])
    leases.lease_next(other_editor)
    response = nxt(as_editor, follow=True)
    assert response.redirect_chain == [("/articles/", 302)]
    html = response.content.decode()
    assert 'role="status">All caught up: no other article needs review right now' in html


def test_an_htmx_request_is_redirected_by_htmx(as_editor, queue):
    response = nxt(as_editor, HTTP_HX_REQUEST="true")
    assert (response.status_code, response["HX-Redirect"]) == (200, f"/articles/{queue[0].pk}/")


def test_a_bad_after_is_400_and_leases_nothing(as_editor, queue):
    response = nxt(as_editor, "abc")
    assert response.status_code == 400
    assert "“after” must be the id of the article you leave (a whole number); got “abc”." in response.content.decode()
    assert held() == {}


def test_next_article_is_for_editors_only(as_outsider, anonymous, queue):
    assert nxt(as_outsider).status_code == 403
    assert nxt(anonymous).url.startswith("/accounts/login/")
    assert held() == {}


@pytest.mark.django_db(transaction=True)
def test_a_claim_in_progress_is_skipped_not_waited_for_nor_shared(editor, other_editor, queue):
    """Two connections: while the first editor's claim still holds its row lock (not committed, so
    the second cannot see the lease yet), the second editor gets the next article at once."""
    claimed, finish, got = threading.Event(), threading.Event(), {}

    def first() -> None:
        with transaction.atomic():
            got["eddie"] = leases.lease_next(editor).pk
            claimed.set()
            finish.wait(WAIT)

    def second() -> None:
        got["erin"] = leases.lease_next(other_editor).pk

    holder = in_thread(first)
    assert claimed.wait(WAIT)
    asker = in_thread(second)
    asker.join(WAIT)
    stuck = asker.is_alive()
    finish.set()
    holder.join(WAIT)
    asker.join(WAIT)
    assert not stuck, "the second claim waited for the first one's lock"
    assert got == {"eddie": queue[0].pk, "erin": queue[1].pk}
    assert held() == {queue[0].pk: "eddie", queue[1].pk: "erin"}


@pytest.mark.django_db(transaction=True)
def test_editors_asking_at_the_same_moment_each_get_a_different_article(make_article):
    articles = [make_article(f"Nota {i}.", status=Article.Status.PRE_ANNOTATED) for i in range(6)]
    editors = [accounts.set_user(f"ed{i}", accounts.EDITOR, PASSWORD, validate=False)[0] for i in range(4)]
    start, got = threading.Barrier(len(editors)), {}

    def claim(user) -> None:
        start.wait(WAIT)
        got[user.username] = leases.lease_next(user).pk

    threads = [in_thread(lambda user=user: claim(user)) for user in editors]
    for thread in threads:
        thread.join(WAIT)
    assert len(got) == 4 and len(set(got.values())) == 4
    assert set(got.values()) <= {a.pk for a in articles}
    assert held() == {pk: name for name, pk in got.items()}


def test_next_article_answers_only_post(editor, queue):
    client = Client()  # no CSRF check, so that the method check is what answers
    client.force_login(editor)
    assert client.get("/articles/next/").status_code == 405
    assert held() == {}
