"""Nothing user-supplied ever runs as script: the attack inputs of attacks.py, stored in every field
a page shows, come back as text in every page and partial; data for scripts goes through json_script.

test_roles.py also asserts, for every URL of the project and every role, that none of these inputs
appears unescaped; here each page is shown to render them (escaped), and the partials too.
"""

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.html import escape

from articles.models import ImportBatch
from tests.conftest import post_as_page
from tests.security.attacks import (
    IMG_ONERROR,
    JAVASCRIPT_URL_ATTRIBUTE,
    LABEL_NAME,
    RAW,
    SCRIPT_BREAKOUT,
    SVG_ONLOAD,
    USERNAME,
)
from tests.security.world import TITLE, at

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
HTMX = {"HTTP_HX_REQUEST": "true"}


def assert_inert(html: str, *shown: str) -> None:
    """Each of ``shown`` is in the page as escaped text, and no markup of the attacks is live."""
    assert [raw for raw in RAW if raw in html] == []
    assert not re.search(JAVASCRIPT_URL_ATTRIBUTE, html)
    for text in shown:
        assert escape(text) in html, f"{text!r} is not shown"


def token(client) -> str:
    client.get("/accounts/login/")
    return client.cookies["csrftoken"].value


def test_the_article_list_shows_titles_usernames_and_failures_as_text(as_admin, world):
    html = as_admin.get("/articles/").content.decode()
    assert_inert(html, TITLE, USERNAME, f"model said {SCRIPT_BREAKOUT}", IMG_ONERROR + " dos")
    # The filters offer the label and the upload batch by name.
    assert_inert(html, LABEL_NAME, f"{IMG_ONERROR}.csv")
    partial = as_admin.get("/articles/", **HTMX).content.decode()
    assert "<html" not in partial
    assert_inert(partial, TITLE, USERNAME)
    progress = as_admin.get("/articles/preannotation/").content.decode()
    assert_inert(progress, SVG_ONLOAD, f"model said {SCRIPT_BREAKOUT}")


def test_the_workspace_shows_body_spans_labels_and_suggestions_as_text(as_admin, world):
    html = as_admin.get(f"/articles/{world.article.pk}/").content.decode()
    body = re.search(r"<div[^>]*data-article-body[^>]*>(.*?)</div>", html, re.S).group(1)
    assert re.sub(r"<[^>]+>", "", body) == escape(world.article.body)
    assert f'data-label="{escape(LABEL_NAME)}" data-origin="model">{escape(SVG_ONLOAD)}</mark>' in body
    assert f'data-label-choice="{escape(LABEL_NAME)}"' in html
    assert f'title="{escape(world.label.description)}"' in html
    assert re.search(rf"<q class=\"label-\d+\">{re.escape(escape(IMG_ONERROR))}</q>", html)  # the suggestion
    assert_inert(html, world.article.title, USERNAME)


def test_a_change_answers_with_escaped_regions(as_editor, world):
    article = world.article
    start, end = at(article.body, SCRIPT_BREAKOUT)
    data = {"start": start, "end": end, "label": LABEL_NAME, "version": article.version}
    response = as_editor.post(f"/articles/{article.pk}/spans/", data, HTTP_X_CSRFTOKEN=token(as_editor), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    # "Added <label> “<text>”.", the text and the entity list: all as text.
    assert_inert(html, f"Added {LABEL_NAME}", SVG_ONLOAD, IMG_ONERROR)
    assert escape("<script>alert(1)</script") in html  # the span's text: the words of the selection
    refused = as_editor.post(
        f"/articles/{article.pk}/spans/",
        {"start": 0, "end": 4, "label": SVG_ONLOAD, "version": article.version + 1},
        HTTP_X_CSRFTOKEN=token(as_editor),
        **HTMX,
    )
    assert refused.status_code == 422
    assert_inert(refused.content.decode(), f"Unknown label '{SVG_ONLOAD}'")


def test_a_decided_suggestion_answers_with_escaped_regions(as_editor, world):
    url = f"/suggestions/{world.suggestion.pk}/accept"
    response = as_editor.post(url, {"version": world.article.version}, HTTP_X_CSRFTOKEN=token(as_editor), **HTMX)
    assert response.status_code == 200
    assert_inert(response.content.decode(), LABEL_NAME, IMG_ONERROR)
    again = as_editor.post(url, {}, HTTP_X_CSRFTOKEN=token(as_editor), **HTMX)
    assert_inert(again.content.decode())


def test_upload_pages_show_file_names_previews_and_errors_as_text(as_admin, world):
    upload = as_admin.get("/upload/").content.decode()
    assert_inert(upload, f"{IMG_ONERROR}.csv", f"{SVG_ONLOAD}.jsonl", USERNAME)
    failed = as_admin.get(f"/upload/{world.batch.pk}/").content.decode()
    assert_inert(failed, f"{IMG_ONERROR}.csv", f"{SVG_ONLOAD}.csv", world.batch.errors[0])
    preview = as_admin.get(f"/upload/{world.checked_batch.pk}/").content.decode()
    assert_inert(preview, f"{SCRIPT_BREAKOUT}.jsonl", TITLE, LABEL_NAME)
    partial = as_admin.get(f"/upload/{world.checked_batch.pk}/", **HTMX).content.decode()
    assert_inert(partial, TITLE, LABEL_NAME)


def test_uploaded_file_names_are_shown_as_text(as_admin, world, settings, tmp_path):
    settings.IMPORT_UPLOAD_DIR = tmp_path
    files = [SimpleUploadedFile(f"{SVG_ONLOAD}.txt", "Putin visitó Moscú.".encode())]
    response = as_admin.post("/upload/", {"files": files}, HTTP_X_CSRFTOKEN=token(as_admin), follow=True)
    batch = ImportBatch.objects.get(name=f"{SVG_ONLOAD}.txt")
    assert response.redirect_chain[-1][0] == f"/upload/{batch.pk}/"
    assert_inert(response.content.decode(), f"{SVG_ONLOAD}.txt")
    unsupported = [SimpleUploadedFile(f"{IMG_ONERROR}.exe", b"MZ")]
    refused = as_admin.post("/upload/", {"files": unsupported}, HTTP_X_CSRFTOKEN=token(as_admin))
    assert refused.status_code == 400
    assert_inert(refused.content.decode(), f"Unsupported format: {IMG_ONERROR}.exe")


def test_the_export_page_shows_filters_and_who_as_text(as_admin, world):
    html = as_admin.get("/export/").content.decode()
    assert_inert(html, f"label={SVG_ONLOAD}", USERNAME, LABEL_NAME, f"{IMG_ONERROR}.csv")
    count = as_admin.get("/export/", {"label": LABEL_NAME}, **HTMX).content.decode()
    assert "<html" not in count and "<strong data-spans>2</strong>" in count


def test_the_quality_page_shows_texts_labels_and_editors_as_text(as_admin, world):
    html = as_admin.get("/quality/").content.decode()
    assert_inert(html, SVG_ONLOAD, IMG_ONERROR, LABEL_NAME, USERNAME, TITLE)
    assert "<svg " in html  # the charts, drawn by the server: the only SVG markup of the page


def test_the_history_page_shows_who_and_what_as_text(as_admin, world):
    html = as_admin.get(f"/articles/{world.reviewed.pk}/history/").content.decode()
    assert_inert(html, USERNAME, LABEL_NAME, SVG_ONLOAD, IMG_ONERROR, TITLE)


@pytest.mark.parametrize(
    "path",
    [
        "/admin/articles/article/",
        "/admin/articles/label/",
        "/admin/articles/span/",
        "/admin/articles/spanevent/",
        "/admin/articles/importbatch/",
        "/admin/auth/user/",
    ],
)
def test_the_admin_shows_them_as_text(as_admin, world, path):
    shown = {
        "/admin/articles/article/": [TITLE],
        "/admin/articles/label/": [LABEL_NAME, world.label.description],
        "/admin/articles/span/": [LABEL_NAME, USERNAME],
        "/admin/articles/spanevent/": [USERNAME, LABEL_NAME],
        "/admin/articles/importbatch/": [f"{IMG_ONERROR}.csv", USERNAME],
        "/admin/auth/user/": [USERNAME],
    }[path]
    assert_inert(as_admin.get(path).content.decode(), *shown)


def test_the_admin_change_forms_keep_markup_in_field_values(as_admin, world):
    article = as_admin.get(f"/admin/articles/article/{world.reviewed.pk}/change/").content.decode()
    assert_inert(article, TITLE, world.reviewed.source)
    label = as_admin.get(f"/admin/articles/label/{world.label.pk}/change/").content.decode()
    assert_inert(label, LABEL_NAME, world.label.description)


@pytest.mark.parametrize(
    ("path", "attack"),
    [
        ("/articles/?q=", SVG_ONLOAD),
        ("/articles/?status=", SVG_ONLOAD),
        ("/articles/?label=", SVG_ONLOAD),
        ("/articles/?ordering=", IMG_ONERROR),
        ("/export/?label=", SVG_ONLOAD),
        ("/export/?status=", IMG_ONERROR),
    ],
)
def test_query_strings_are_reflected_as_text(as_admin, world, path, attack):
    html = as_admin.get(path + quote(attack)).content.decode()
    assert_inert(html, attack)


def test_unknown_filter_names_are_reflected_as_text(as_admin, world):
    assert_inert(as_admin.get(f"/export/?{quote(SVG_ONLOAD)}=1").content.decode(), f"unknown filter “{SVG_ONLOAD}”")


@pytest.mark.parametrize(
    "path",
    [
        f"/export/spans.csv?label={SVG_ONLOAD}",
        "/articles/{pk}/history/?page=" + SVG_ONLOAD,
    ],
)
def test_refusals_that_repeat_the_input_are_plain_text(as_admin, world, path):
    response = as_admin.get(path.format(pk=world.article.pk))
    assert response.status_code == 400 and SVG_ONLOAD in response.content.decode()
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_refused_next_article_repeats_its_input_as_plain_text(as_admin, world):
    response = post_as_page(as_admin, "/articles/next/", {"after": SVG_ONLOAD})
    assert response.status_code == 400 and SVG_ONLOAD in response.content.decode()
    assert response["Content-Type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "spacy"])
def test_downloads_are_attachments_a_browser_never_renders(as_admin, world, fmt):
    response = as_admin.get(f"/export/spans.{fmt}")
    assert response.status_code == 200
    assert "html" not in response["Content-Type"]
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    b"".join(response.streaming_content if response.streaming else [response.content])


def test_templates_have_no_inline_script_data_goes_through_json_script():
    templates = list(ROOT.glob("templates/**/*.html"))
    assert len(templates) > 8
    for template in templates:
        for tag in re.findall(r"<script\b[^>]*>", template.read_text()):
            assert "src=" in tag, f"{template.name}: inline script {tag}"
    assert "|json_script:" in (ROOT / "templates/articles/detail.html").read_text()


def test_the_workspace_hands_data_to_scripts_only_as_escaped_json(as_admin, world):
    html = as_admin.get(f"/articles/{world.article.pk}/").content.decode()
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    inline = [(attrs, content) for attrs, content in scripts if "src=" not in attrs]
    assert [attrs for attrs, _ in inline] == [' id="workspace-text" type="application/json"']
    assert all("<" not in content for _, content in inline)


# What renders markup without escaping it, and each place allowed to (reviewed: they escape every
# piece of text themselves, with html.escape or format_html).
UNESCAPED = re.compile(r"mark_safe\(|\|safe\b|\|safeseq\b|autoescape off|SafeString\(|format_html\(\s*f[\"']")
ALLOWED_UNESCAPED = {"articles/templatetags/workspace.py": 2, "articles/quality/charts.py": 1}


def test_only_reviewed_code_renders_markup_unescaped():
    found = {}
    for path in [*ROOT.glob("articles/**/*.py"), *ROOT.glob("templates/**/*.html")]:
        count = len(UNESCAPED.findall(path.read_text()))
        if count:
            found[str(path.relative_to(ROOT))] = count
    assert found == ALLOWED_UNESCAPED


def test_every_page_sends_a_strict_content_security_policy(as_admin, world):
    for path in ["/articles/", f"/articles/{world.article.pk}/", f"/articles/{world.article.pk}/history/",
                 "/upload/", f"/upload/{world.batch.pk}/", "/export/", "/quality/", "/admin/",
                 "/admin/articles/article/", "/accounts/login/"]:  # fmt: skip
        response = as_admin.get(path)
        policy = response["Content-Security-Policy"]
        nonce = re.search(r"script-src 'self' 'nonce-([^']+)'", policy).group(1)
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, path
        assert "object-src 'none'" in policy and "base-uri 'none'" in policy, path
        html = response.content.decode()
        # Every inline script or style element of ours carries this response's nonce.
        for tag in re.findall(r"<(?:script|style)\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag or f'nonce="{nonce}"' in tag, (path, tag)
