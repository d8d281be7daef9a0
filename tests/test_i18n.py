"""The interface in English and Spanish: the browser's language first, then the user's choice."""

import ast
import gettext
import io
import re
import tokenize

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation.template import templatize

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


# Every page, in Spanish ------------------------------------------------------------------------------

ES = {"HTTP_ACCEPT_LANGUAGE": "es-ES,es;q=0.9"}


def test_the_workspace_speaks_spanish(as_editor, make_article):
    article = make_article("Putin visitó Moscú.", spans=[(0, 5, "PER")])
    html = as_editor.get(f"/articles/{article.pk}/", **ES).content.decode()
    assert "<kbd>r</kbd>Marcar como revisado" in html and "<kbd>u</kbd>Deshacer" in html
    assert "<kbd>e</kbd>Etiquetar todas las apariciones" in html and "<kbd>Supr</kbd>Eliminar" in html
    assert "<span>1 entidad</span>" in html and "<span>versión 1 · último cambio de" not in html
    # The keyboard help, and the messages the script shows (passed with json_script).
    assert '<h2 id="help-title">Teclado</h2>' in html and "Mover el final de la entidad una palabra" in html
    assert "<kbd>Mayús</kbd> + " in html and "Marcar como revisado y abrir el siguiente artículo" in html
    assert "Seleccione primero una entidad (haga clic en ella" in html
    assert "Mark reviewed" not in html and "Keyboard" not in html


def test_a_refused_change_is_explained_in_spanish(as_editor, make_article):
    article = make_article("Putin visitó Moscú.", spans=[(0, 5, "PER")])
    token = csrf_token(as_editor, f"/articles/{article.pk}/")
    response = as_editor.post(
        f"/articles/{article.pk}/spans/",
        {"start": 0, "end": 5, "label": "LOC", "version": article.version, "csrfmiddlewaretoken": token},
        HTTP_HX_REQUEST="true",
        **ES,
    )
    assert response.status_code == 422
    assert "«Putin» se solapa con la entidad PER «Putin» (0–5); elimine o ajuste esa primero." in (
        response.content.decode()
    )


def test_the_upload_page_speaks_spanish(as_admin):
    html = as_admin.get("/upload/", **ES).content.decode()
    assert "<h1>Subir artículos</h1>" in html and "<strong>Suelte los archivos aquí</strong>" in html
    assert "Preanotar con el modelo después de importar" in html and "UTF-8 (se rechazan las demás)" in html
    token = csrf_token(as_admin, "/upload/")
    refused = as_admin.post("/upload/", {"csrfmiddlewaretoken": token}, **ES).content.decode()
    assert "<p>Elija o suelte al menos un archivo.</p>" in refused


def test_an_uploads_problems_are_written_in_the_uploaders_language(as_admin, settings, tmp_path):
    """The check runs later in a worker, outside the request: the task carries the language."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django_tasks_db.models import DBTaskResult

    from articles.ingest import uploads
    from articles.models import ImportBatch

    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"
    token = csrf_token(as_admin, "/upload/")
    bad = SimpleUploadedFile("notas.jsonl", b'{"text": "Hola"}\nno es json\n')
    as_admin.post("/upload/", {"files": [bad], "csrfmiddlewaretoken": token}, **ES)
    [queued] = DBTaskResult.objects.filter(task_path=uploads.check_upload.module_path)
    with translation.override("en"):  # a worker, which serves no request
        uploads.check_upload.call(*queued.args_kwargs["args"], **queued.args_kwargs["kwargs"])
    batch = ImportBatch.objects.get()
    assert batch.errors == ["notas.jsonl, línea 2: no es JSON (Expecting value en la columna 1)"]
    html = as_admin.get(f"/upload/{batch.pk}/", **ES).content.decode()
    assert "<h2>No se importó nada</h2>" in html and "línea 2: no es JSON" in html


def test_the_export_page_speaks_spanish(as_admin, make_article):
    make_article("Putin visitó Moscú.", spans=[(0, 5, "PER")])
    html = as_admin.get("/export/", **ES).content.decode()
    assert "<h1>Exportar anotaciones</h1>" in html and "<legend>Lote de subida</legend>" in html
    assert "<strong data-spans>1</strong> entidad" in html and "se exportarán." in html
    assert ">CSV para Excel</button>" in html and "Aún no hay exportaciones." in html
    count = as_admin.get("/export/?status=bogus", HTTP_HX_REQUEST="true", **ES).content.decode()
    assert "Estado: valor de status desconocido «bogus»; valores admitidos:" in count


def test_the_quality_page_speaks_spanish(as_admin, make_article):
    make_article("Putin visitó Moscú.", spans=[(0, 5, "PER")])
    html = as_admin.get("/quality/", **ES).content.decode()
    assert "<h1>Calidad y esfuerzo</h1>" in html and "<h2>El modelo frente a los editores</h2>" in html
    assert "Coincidencia exacta por etiqueta" in html and "<h2>Reentrenamiento</h2>" in html
    assert "Ningún editor ha cambiado aún una entidad." in html and "Quality and effort" not in html


def test_the_locked_out_page_speaks_spanish(client):
    from django.template.loader import render_to_string

    with translation.override("es"):
        html = render_to_string("registration/locked_out.html")
    assert "<h1>Demasiados inicios de sesión fallidos</h1>" in html


# The catalogue ------------------------------------------------------------------------------------

CATALOGUE = settings.BASE_DIR / "articles" / "locale" / "es" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[#0 +-]*\d*(?:\.\d+)?[sdifrx%]")


def _po_entries() -> list[dict]:
    """The catalogue's entries: msgctxt, msgid, msgid_plural, msgstr (a list), flags, obsolete."""
    entries, entry, key = [], None, None
    for line in (CATALOGUE / "django.po").read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if entry:
                entries.append(entry)
            entry, key = None, None
            continue
        entry = entry or {"msgctxt": None, "msgid_plural": None, "msgstr": [], "flags": set(), "obsolete": False}
        if line.startswith("#~"):
            entry["obsolete"] = True
        elif line.startswith("#,"):
            entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if key == "msgstr":
                entry["msgstr"][-1] += value
            else:
                entry[key] += value
        else:
            key, _, value = line.partition(" ")
            if key.startswith("msgstr"):
                entry["msgstr"].append(ast.literal_eval(value))
                key = "msgstr"
            else:
                entry[key] = ast.literal_eval(value)
    return [e for e in entries if e.get("msgid") or e["obsolete"]]


def test_every_entry_of_the_catalogue_is_translated_and_current():
    entries = _po_entries()
    assert len(entries) > 300
    problems = [
        f"{e.get('msgid')!r}: {why}"
        for e in entries
        for why in (
            ["fuzzy"] * ("fuzzy" in e["flags"])
            + ["obsolete (run makemessages)"] * e["obsolete"]
            + ["untranslated"] * (not all(e["msgstr"]))
            + ["plural forms missing"] * bool(e["msgid_plural"] and len(e["msgstr"]) != 3)
        )
    ]
    assert problems == []


def test_translations_keep_every_placeholder():
    for e in _po_entries():
        if "python-format" not in e["flags"]:
            continue
        sources = [e["msgid"], e["msgid_plural"], e["msgid_plural"]] if e["msgid_plural"] else [e["msgid"]]
        for source, translated in zip(sources, e["msgstr"], strict=True):
            assert sorted(PLACEHOLDER.findall(translated)) == sorted(PLACEHOLDER.findall(source)), e["msgid"]


def test_the_compiled_catalogue_matches_the_po_file():
    with (CATALOGUE / "django.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    for e in _po_entries():
        msgid = f"{e['msgctxt']}\x04{e['msgid']}" if e["msgctxt"] else e["msgid"]
        if e["msgid_plural"]:
            assert [compiled.ngettext(msgid, e["msgid_plural"], n) for n in (1, 1_000_000, 2)] == e["msgstr"]
        else:
            assert compiled.gettext(msgid) == e["msgstr"][0], "compile the catalogue: manage.py compilemessages"


def _marked_in_python() -> set[tuple[str | None, str]]:
    calls = {"_", "gettext", "gettext_lazy", "gettext_noop", "ngettext", "ngettext_lazy"}
    contextual = {"pgettext", "pgettext_lazy", "npgettext", "npgettext_lazy"}
    found = set()
    for path in (settings.BASE_DIR / "articles").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            strings = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if node.func.id in calls and strings:
                found.add((None, strings[0]))
            elif node.func.id in contextual and len(strings) >= 2:
                found.add((strings[0], strings[1]))
    return found


def _marked_in_templates() -> set[tuple[str | None, str]]:
    found = set()
    for path in (settings.BASE_DIR / "templates").rglob("*.html"):
        # What makemessages hands to xgettext: the template's strings as gettext calls.
        source = templatize(path.read_text(encoding="utf-8"), origin=str(path))
        # Each call is on one line; the lines' indentation is not Python's.
        lines = io.StringIO("\n".join(line.strip() for line in source.splitlines()))
        tokens = list(tokenize.generate_tokens(lines.readline))
        for i, token in enumerate(tokens):
            if token.string in {"_", "gettext", "ngettext", "pgettext", "npgettext"} and tokens[i + 1].string == "(":
                strings = []
                for t in tokens[i + 2 :]:
                    if t.string == ")":
                        break
                    if t.type == tokenize.STRING:
                        strings.append(ast.literal_eval(t.string))
                context = strings.pop(0) if token.string.startswith(("p", "np")) else None
                found.add((context, strings[0]))
    return found


def test_every_marked_string_is_in_the_catalogue():
    """A string marked for translation after the catalogue was made fails here until makemessages is run."""
    catalogue = {(e["msgctxt"], e["msgid"]) for e in _po_entries() if not e["obsolete"]}
    marked = _marked_in_python() | _marked_in_templates()
    assert ("keyboard key", "Del") in marked and (None, "Mark reviewed") in marked  # the extractor works
    assert sorted(marked - catalogue, key=str) == []
