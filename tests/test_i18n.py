"""The interface in English and Spanish: the browser's language first, then the user's choice."""

import re

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def csrf_token(client, path: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get(path).content.decode()).group(1)


def test_a_spanish_browser_gets_the_spanish_interface(as_editor, make_article):
    make_article("Putin visitó Moscú.", spans=[(0, 5, "PER")], title="Visita")
    html = as_editor.get("/articles/", HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9,en;q=0.5").content.decode()
    assert '<html lang="es">' in html
    assert "<h1>Artículos</h1>" in html
    assert ">preanotado</span>" in html and "1 artículo<" in html
    assert "Revisar el siguiente artículo" in html and "Cerrar sesión de eddie" in html
    assert "Review next article" not in html


def test_an_english_browser_gets_the_english_interface(as_editor):
    html = as_editor.get("/articles/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").content.decode()
    assert '<html lang="en">' in html and "<h1>Articles</h1>" in html


def test_the_login_page_speaks_spanish_too(anonymous):
    html = anonymous.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "<h1>Iniciar sesión</h1>" in html and "Contraseña" in html


def test_bad_filters_are_explained_in_spanish(as_editor):
    html = as_editor.get("/articles/?ordering=created_by__password", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "No se pueden aplicar estos filtros:" in html and "Orden: " in html


def test_the_user_switches_language_and_it_sticks_over_the_browsers(as_editor):
    token = csrf_token(as_editor, "/articles/")
    response = as_editor.post(
        "/i18n/setlang/", {"language": "es", "next": "/articles/?status=new", "csrfmiddlewaretoken": token}
    )
    assert (response.status_code, response.url) == (302, "/articles/?status=new")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    html = as_editor.get("/articles/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<h1>Artículos</h1>" in html
    # The switcher names each language in itself, the current one pressed.
    assert (
        '<button type="submit" name="language" value="es" lang="es" aria-pressed="true" disabled>Español</button>'
        in html
    )
    assert '<button type="submit" name="language" value="en" lang="en">English</button>' in html


def test_the_language_can_be_switched_before_signing_in(anonymous):
    token = csrf_token(anonymous, "/accounts/login/")
    response = anonymous.post(
        "/i18n/setlang/", {"language": "es", "next": "/accounts/login/", "csrfmiddlewaretoken": token}
    )
    assert response.url == "/accounts/login/"
    assert "<h1>Iniciar sesión</h1>" in anonymous.get("/accounts/login/").content.decode()


def test_switching_language_needs_the_csrf_token_and_a_known_language(as_editor):
    assert as_editor.post("/i18n/setlang/", {"language": "es", "next": "/articles/"}).status_code == 403
    token = csrf_token(as_editor, "/articles/")
    response = as_editor.post("/i18n/setlang/", {"language": "xx", "next": "/articles/", "csrfmiddlewaretoken": token})
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert as_editor.get("/i18n/setlang/?language=es").status_code == 405
