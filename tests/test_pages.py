"""The article list, the article page, login and health, through Django's test client."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from articles.models import Article
from articles.site.views import server_error
from tests.conftest import span_texts

pytestmark = pytest.mark.django_db


def test_anonymous_users_are_sent_to_the_login_page(anonymous, make_article):
    article = make_article()
    for url in ["/articles/", f"/articles/{article.pk}/", "/"]:
        response = anonymous.get(url)
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/?next=")


def test_a_user_without_a_role_gets_403(as_outsider, make_article):
    article = make_article()
    assert as_outsider.get("/articles/").status_code == 403
    assert as_outsider.get(f"/articles/{article.pk}/").status_code == 403


def test_login_form_signs_in_an_editor(anonymous, editor):
    page = anonymous.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    response = anonymous.post(
        "/accounts/login/",
        {"username": "eddie", "password": "correct horse battery staple", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302 and response.url == "/articles/"
    assert "Sign out eddie" in anonymous.get("/articles/").content.decode()


def test_the_article_page_highlights_each_span_with_the_contract_hooks(as_editor, make_article):
    article = make_article(
        "Vladimir Putin visitó Moscú <y> “Kim” & 🇰🇵.", spans=[(0, 14, "PER"), (22, 27, "LOC"), (33, 36, "PER")]
    )
    html = as_editor.get(f"/articles/{article.pk}/").content.decode()
    body = re.search(r"<div[^>]*data-article-body[^>]*>(.*?)</div>", html, re.S)
    assert f'data-article-id="{article.pk}"' in body.group(0)
    assert f'data-version="{article.version}"' in body.group(0)
    marks = re.findall(
        r'<mark [^>]*data-start="(\d+)" data-end="(\d+)" data-label="(\w+)"[^>]*>(.*?)</mark>', body.group(1)
    )
    assert marks == [("0", "14", "PER", "Vladimir Putin"), ("22", "27", "LOC", "Moscú"), ("33", "36", "PER", "Kim")]
    # The text between the marks is the body, escaped, with nothing added.
    assert re.sub(r"<[^>]+>", "", body.group(1)) == "Vladimir Putin visitó Moscú &lt;y&gt; “Kim” &amp; 🇰🇵."
    assert 'data-label-choice="LOC"' in html


def test_an_unknown_article_is_404(as_editor):
    assert as_editor.get("/articles/999999/").status_code == 404


def test_pages_answer_only_get(editor, make_article):
    client = Client()  # no CSRF check, so that the method check is what answers
    client.force_login(editor)
    article = make_article()
    assert client.post("/articles/").status_code == 405
    assert client.delete(f"/articles/{article.pk}/").status_code == 405


def test_every_page_has_a_strict_content_security_policy(as_editor, make_article):
    article = make_article()
    policy = as_editor.get(f"/articles/{article.pk}/")["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy
    assert "unsafe-inline" not in policy


def test_healthz_says_ok_when_the_database_answers(anonymous):
    response = anonymous.get("/healthz")
    assert (response.status_code, response.content) == (200, b"ok")


@pytest.mark.django_db(transaction=True)
def test_healthz_says_503_when_the_database_is_down(monkeypatch):
    # A new connection to a port where nothing listens: a database that is down.
    connection.close()
    params = connection.get_connection_params() | {"host": "127.0.0.1", "port": 1}
    monkeypatch.setattr(connection, "get_connection_params", lambda: params)
    response = Client().get("/healthz")
    assert (response.status_code, response.content) == (503, b"database unavailable")
    monkeypatch.undo()
    connection.close()
    assert Article.objects.count() == 0  # and the app reconnects once it is back


@pytest.mark.django_db(transaction=True)
def test_pages_and_changes_answer_503_with_the_reason_when_the_database_is_down(editor, make_article, monkeypatch):
    article = make_article("Putin visitó Moscú.", spans=[(0, 5, "PER")])
    # Errors answered as a server would, not raised into the test.
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(editor)
    page = client.get(f"/articles/{article.pk}/").content.decode()
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    connection.close()
    params = connection.get_connection_params() | {"host": "127.0.0.1", "port": 1}
    monkeypatch.setattr(connection, "get_connection_params", lambda: params)
    change = {"start": 13, "end": 18, "label": "LOC", "version": article.version}
    for response in [
        client.get(f"/articles/{article.pk}/"),
        client.post(f"/articles/{article.pk}/spans/", change, HTTP_X_CSRFTOKEN=token, HTTP_HX_REQUEST="true"),
    ]:
        assert response.status_code == 503
        assert response.content.decode() == "The database is unavailable; try again in a moment."
        assert response["Retry-After"] == "5"
    monkeypatch.undo()
    connection.close()
    assert span_texts(article) == [("Putin", "PER", "model")]
    assert client.get(f"/articles/{article.pk}/").status_code == 200  # back by itself


def test_other_errors_stay_500(rf):
    request = rf.get("/")
    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(request)
    assert response.status_code == 500


def test_the_home_page_leads_to_the_list(as_editor):
    assert as_editor.get("/").url == reverse("articles:list")


def test_login_is_locked_after_five_wrong_passwords(anonymous, editor):
    page = anonymous.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    for _ in range(5):
        wrong = anonymous.post(
            "/accounts/login/", {"username": "eddie", "password": "nope", "csrfmiddlewaretoken": token}
        )
    assert wrong.status_code == 429
    right = anonymous.post(
        "/accounts/login/",
        {"username": "eddie", "password": "correct horse battery staple", "csrfmiddlewaretoken": token},
    )
    assert right.status_code == 429
    assert "Too many failed sign-ins" in right.content.decode()
    assert anonymous.get("/articles/").status_code == 302  # still signed out


def test_the_admin_is_for_admins_only(anonymous, as_editor, as_admin):
    response = anonymous.get("/admin/", follow=True)
    assert response.redirect_chain[-1] == ("/accounts/login/?next=/admin/", 302)
    assert as_editor.get("/admin/").status_code == 403
    assert as_editor.get("/admin/articles/label/").status_code == 403
    assert "Annotator admin" in as_admin.get("/admin/").content.decode()
