"""CSRF everywhere: every POST needs the token, HTMX sends it from <body>, nothing is exempt, and a
token gone stale (the user signed in again in another tab) is explained in the page."""

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver

from tests.conftest import PASSWORD, span_texts

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
HTMX = {"HTTP_HX_REQUEST": "true"}


def test_no_code_of_ours_exempts_a_view_from_csrf():
    sources = [*ROOT.glob("articles/**/*.py"), *ROOT.glob("annotator/**/*.py")]
    assert len(sources) > 20
    assert [str(path) for path in sources if "csrf_exempt" in path.read_text()] == []


def test_no_view_of_the_project_is_csrf_exempt():
    def callbacks(resolver: URLResolver):
        for pattern in resolver.url_patterns:
            yield from callbacks(pattern) if isinstance(pattern, URLResolver) else [pattern.callback]

    exempt = [view.__qualname__ for view in callbacks(get_resolver()) if getattr(view, "csrf_exempt", False)]
    assert exempt == []


def test_the_suites_clients_enforce_csrf_checks(anonymous, as_editor, as_admin, as_outsider):
    assert all(client.handler.enforce_csrf_checks for client in (anonymous, as_editor, as_admin, as_outsider))


def page_token(html: str) -> str:
    """The token htmx sends with every request: hx-headers on <body>."""
    return re.search(r"""<body hx-headers='\{"X-CSRFToken": "([^"]+)"\}'>""", html).group(1)


def relabel(client: Client, article, token: str, **headers):
    span = article.spans.first()
    data = {"label": "LOC", "version": article.version}
    return client.post(f"/articles/{article.pk}/spans/{span.pk}/label", data, HTTP_X_CSRFTOKEN=token, **headers)


def test_the_token_on_body_is_what_lets_a_change_through(as_editor, make_article):
    article = make_article(spans=[(0, 14, "PER")])
    token = page_token(as_editor.get(f"/articles/{article.pk}/").content.decode())
    assert relabel(as_editor, article, "x" * 64, **HTMX).status_code == 403
    assert span_texts(article) == [("Vladimir Putin", "PER", "model")]
    assert relabel(as_editor, article, token, **HTMX).status_code == 200
    assert span_texts(article) == [("Vladimir Putin", "LOC", "model")]


def sign_in(client: Client) -> None:
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get("/accounts/login/").content.decode())
    data = {"username": "eddie", "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)}
    assert client.post("/accounts/login/", data).status_code == 302


def test_a_token_made_stale_by_signing_in_again_gives_a_reload_message_in_the_page(editor, make_article):
    article = make_article(spans=[(0, 14, "PER")])
    tab = Client(enforce_csrf_checks=True)
    sign_in(tab)
    stale = page_token(tab.get(f"/articles/{article.pk}/").content.decode())
    sign_in(tab)  # again, as in another tab (the cookies are shared): signing in rotates the token
    before = article.version
    response = relabel(tab, article, stale, HTTP_HX_CURRENT_URL=f"http://testserver/articles/{article.pk}/", **HTMX)
    assert response.status_code == 403
    # Into the page's alert region, never into the article text the request aimed at.
    assert (response["HX-Retarget"], response["HX-Reswap"]) == ("#page-alert", "innerHTML")
    html = response.content.decode()
    assert "<html" not in html and "CSRF" not in html
    assert "Your session changed" in html and "Nothing was changed." in html
    assert f'<a href="/articles/{article.pk}/">Reload the page</a>' in html
    article.refresh_from_db()
    assert article.version == before and span_texts(article) == [("Vladimir Putin", "PER", "model")]


def test_the_reload_link_never_leads_off_the_site(editor, make_article):
    article = make_article(spans=[(0, 14, "PER")])
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    response = relabel(client, article, "x" * 64, HTTP_HX_CURRENT_URL="https://evil.example/phish", **HTMX)
    assert response.status_code == 403 and '<a href="">Reload the page</a>' in response.content.decode()


def test_a_stale_plain_form_gets_a_friendly_page_that_leads_back(anonymous, editor):
    anonymous.get("/accounts/login/")
    referer = "http://testserver/accounts/login/?next=/articles/"
    data = {"username": "eddie", "password": PASSWORD, "csrfmiddlewaretoken": "x" * 64}
    response = anonymous.post("/accounts/login/", data, HTTP_REFERER=referer)
    assert response.status_code == 403
    html = response.content.decode()
    assert "<h1>This page is out of date</h1>" in html and 'id="page-alert"' in html
    assert f'<a href="{referer}">Reload the page</a>' in html
    assert anonymous.get("/articles/").status_code == 302  # not signed in
    elsewhere = anonymous.post("/accounts/login/", data, HTTP_REFERER="https://evil.example/")
    assert '<a href="/articles/">Reload the page</a>' in elsewhere.content.decode()


def test_every_page_has_the_alert_region_and_its_script(as_admin, make_article):
    article = make_article(spans=[(0, 14, "PER")])
    for path in ["/articles/", f"/articles/{article.pk}/", f"/articles/{article.pk}/history/", "/upload/",
                 "/export/", "/quality/", "/accounts/login/"]:  # fmt: skip
        html = as_admin.get(path).content.decode()
        assert '<div id="page-alert" class="alert page-alert" role="alert"></div>' in html, path
        assert '<script src="/static/page-alert.js" defer></script>' in html, path
