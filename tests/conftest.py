"""Personas and article builders shared by the whole suite."""

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.test import Client
from django.utils import translation

from articles.models import Article, Span
from articles.nlp import pipeline, store
from articles.site import accounts, defaults
from tests import corpora

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """A request in Spanish leaves Spanish active in the test's thread (LocaleMiddleware activates
    the request's language and nothing resets it): the next test, calling code directly, would
    read its messages in Spanish."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _default_rows(request: pytest.FixtureRequest) -> None:
    """A transactional test ends with a flush, which empties what the migrations wrote (labels,
    roles): put them back for the next one."""
    marker = request.node.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction"):
        request.getfixturevalue("transactional_db")
        defaults.install(django_apps)


@pytest.fixture
def conll2002_es() -> Path:
    """CoNLL-2002's Spanish newswire (esp.train, esp.testa), kept outside the repository."""
    return corpora.corpus("conll2002-es", "esp.train", "esp.testa")


def _user(name: str, role: str | None) -> AbstractBaseUser:
    if role is None:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.create(username=name)
        user.set_password(PASSWORD)
        user.save()
        return user
    return accounts.set_user(name, role, PASSWORD, validate=False)[0]


@pytest.fixture
def admin(db) -> AbstractBaseUser:
    return _user("ada", accounts.ADMIN)


@pytest.fixture
def editor(db) -> AbstractBaseUser:
    return _user("eddie", accounts.EDITOR)


@pytest.fixture
def reviewer(db) -> AbstractBaseUser:
    return _user("rita", accounts.REVIEWER)


@pytest.fixture
def other_editor(db) -> AbstractBaseUser:
    return _user("erin", accounts.EDITOR)


@pytest.fixture
def outsider(db) -> AbstractBaseUser:
    """Signed in, but with no role."""
    return _user("otto", None)


def _client(user: AbstractBaseUser | None) -> Client:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    return client


def post_as_page(client: Client, url: str, data: dict | None = None, **extra):
    """A POST the way a page sends it: with the CSRF token, in the header hx-headers sets."""
    client.get("/accounts/login/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else ""
    return client.post(url, data or {}, HTTP_X_CSRFTOKEN=token, **extra)


@pytest.fixture
def as_admin(admin) -> Client:
    return _client(admin)


@pytest.fixture
def as_editor(editor) -> Client:
    return _client(editor)


@pytest.fixture
def as_outsider(outsider) -> Client:
    return _client(outsider)


@pytest.fixture
def anonymous(db) -> Client:
    return _client(None)


@pytest.fixture
def make_article(db) -> Callable[..., Article]:
    """An article with model spans given as (start, end, label)."""

    def make(body: str = "Vladimir Putin visitó Moscú con Kim Jong Un.", spans=(), **fields) -> Article:
        article = Article.objects.create(title=fields.pop("title", body[:40]), body=body, **fields)
        if spans:
            store.store_model_output({article.pk: [pipeline.ModelSpan(*span) for span in spans]}, "test_model", "1.0")
            article.refresh_from_db()
        return article

    return make


WAIT = 30  # seconds a thread may take before a test calls it stuck


def in_thread(target: Callable[[], None]) -> threading.Thread:
    """Runs target in a new thread, on its own database connection (closed at the end)."""

    def run() -> None:
        try:
            target()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def span_texts(article: Article) -> list[tuple[str, str, str]]:
    """The article's spans as (text, label, origin), in order: what a reader sees."""
    return [
        (s.text, s.label.name, s.origin)
        for s in Span.objects.filter(article=article).select_related("label", "article")
    ]


@pytest.fixture
def child_env(db) -> dict[str, str]:
    """The environment of a child process (``manage.py ...``) that works on this test's database.

    It sees only committed rows: tests that hand it data are ``transaction=True``.
    """
    params = connection.get_connection_params()
    host = quote(str(params.get("host") or "127.0.0.1"), safe="")
    port = f":{params['port']}" if params.get("port") else ""
    url = f"postgres://{params.get('user', 'postgres')}@{host}{port}/{connection.settings_dict['NAME']}"
    return os.environ | {"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "annotator.settings_test"}
