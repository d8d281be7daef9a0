"""Queries from the browser are allow-listed: sorting and filtering accept named fields and values
only. A lookup path (``created_by__password``...) in any list or filter endpoint is refused with 400
or ignored, and never changes what is shown: a filter on password hashes that worked would empty
these lists, since no article, span or batch has a creator whose hash starts with "zz"."""

import re

import pytest

from tests.security.attacks import LOOKUP_PATHS

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
# What differs between two renderings of the same page: nonces, CSRF tokens, the current URL.
VOLATILE = [
    (re.compile(r'nonce="[^"]+"'), 'nonce=""'),
    (re.compile(r'"X-CSRFToken": "[^"]+"'), '"X-CSRFToken": ""'),
    (re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"'), 'name="csrfmiddlewaretoken" value=""'),
    (re.compile(r'name="next" value="[^"]*"'), 'name="next" value=""'),
]


def shown(path: str, html: str) -> str | list[str]:
    """What the page lists: the admin's rows in order (its links carry the query along), or the
    whole page with what differs between two renderings taken out."""
    if path.startswith("/admin/"):
        return re.findall(r'href="/admin/\w+/\w+/(\d+)/change/[^"]*"', html)
    for pattern, replacement in VOLATILE:
        html = pattern.sub(replacement, html)
    return html


def endpoints(world) -> list[tuple[str, dict]]:
    return [
        ("/articles/", {}),
        ("/articles/", HTMX),
        ("/articles/preannotation/", {}),
        ("/export/", {}),
        ("/export/", HTMX),
        (f"/articles/{world.article.pk}/history/", {}),
        (f"/upload/{world.batch.pk}/", {}),
        ("/upload/", {}),
        ("/admin/articles/article/", {}),
        ("/admin/articles/span/", {}),
        ("/admin/articles/spanevent/", {}),
        ("/admin/articles/importbatch/", {}),
        ("/admin/articles/label/", {}),
        ("/admin/auth/user/", {}),
    ]


@pytest.mark.parametrize(("name", "value"), LOOKUP_PATHS, ids=[name for name, _ in LOOKUP_PATHS])
def test_a_lookup_path_in_a_query_is_refused_or_ignored_everywhere(as_admin, world, admin, name, value):
    # Hashes here start with "md5" (the tests' hasher): a lookup that reached them would answer
    # differently for "md5" and for "zz".
    other = value.replace("md5", "zz") if "md5" in value else "zz"
    answers = []
    for path, headers in endpoints(world):
        plain, asked, probe = (as_admin.get(path, query, **headers) for query in ({}, {name: value}, {name: other}))
        html = asked.content.decode()
        assert admin.password.split("$")[-1] not in html
        if asked.status_code == 400:
            answers.append("refused")
        elif asked.status_code == 302 and asked["Location"].endswith("?e=1"):
            answers.append("refused")  # the admin's "invalid lookup" answer, showing nothing
        elif f'role="alert">unknown filter “{name}”' in html:
            answers.append("refused")  # the export form's live count: the refusal instead of counts
            assert "data-articles" not in html
        else:
            assert asked.status_code == 200, (path, asked.status_code)
            if path.startswith("/admin/") and "password" not in name + value:
                answers.append("the admin's own field")  # which admins see anyway
                continue
            assert shown(path, html) == shown(path, probe.content.decode()), f"{path}?{name}: the value counts"
            if path.startswith("/admin/"):
                answers.append("ignored")  # an unknown ordering is "newest first", whatever its value
            else:
                assert shown(path, html) == shown(path, plain.content.decode()), f"{path}?{name} changed the page"
                answers.append("ignored")
    assert len(answers) == len(endpoints(world))


def test_the_queue_refuses_orderings_and_filters_through_relations(as_editor, world):
    for query in ["ordering=created_by__password", "ordering=-batch__created_by__password", "status=new__in",
                  f"label={world.label.name}__startswith", "batch=1__created_by"]:  # fmt: skip
        response = as_editor.get(f"/articles/?{query}")
        assert response.status_code == 400, query
        assert "These filters cannot be applied" in response.content.decode()


def test_exports_refuse_any_unknown_filter_by_name(as_admin, world):
    for path in ["/export/", "/export/spans.csv", "/export/spans.jsonl", "/export/spans.spacy"]:
        response = as_admin.get(path, {"created_by__password__startswith": "a"})
        # The page shows the refusal where the counts go; a download is refused with 400.
        assert response.status_code == (200 if path == "/export/" else 400), path
        assert "unknown filter “created_by__password__startswith”" in response.content.decode()
        assert "data-articles" not in response.content.decode()


def test_the_admin_refuses_lookups_it_does_not_offer(as_admin, world):
    for model in ["article", "span", "spanevent", "importbatch"]:
        response = as_admin.get(f"/admin/articles/{model}/", {"created_by__password__startswith": "a"})
        assert response.status_code in (302, 400), model
        if response.status_code == 302:
            assert response["Location"].endswith("?e=1")
