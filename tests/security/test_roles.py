"""Every URL pattern of the project, asked by an anonymous visitor, a user without a role, an editor,
a reviewer and an admin, and by the admin with the wrong method (405 unless the page is a form that
takes both): each answer is written down below, and a pattern with no expectation fails the test,
so a new view cannot arrive without saying who may use it and how."""

import re
from dataclasses import dataclass

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from articles.quality import figures as quality
from tests.security.attacks import JAVASCRIPT_URL_ATTRIBUTE, RAW
from tests.security.world import World, article_content_type

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "outsider", "editor", "reviewer", "admin")
LOGIN = "to the login page"  # 302 to /accounts/login/?next=<the URL asked>


@dataclass(frozen=True)
class Redirect:
    to: str  # the start of the Location header


@dataclass(frozen=True)
class Expect:
    method: str
    anonymous: int | str | Redirect
    outsider: int | Redirect
    editor: int | Redirect
    admin: int | Redirect
    why: str = ""
    reviewer: int | Redirect | None = None  # None: as the editor
    # The other method (POST for a GET, GET for a POST), asked by an admin, who may use every URL.
    wrong_method: int | Redirect = 405

    def __post_init__(self) -> None:
        if self.reviewer is None:
            object.__setattr__(self, "reviewer", self.editor)

    @property
    def other_method(self) -> str:
        return "POST" if self.method == "GET" else "GET"


def editors(method: str, ok: int | Redirect, why: str = "", wrong_method: int | Redirect = 405) -> Expect:
    return Expect(method, LOGIN, 403, ok, ok, why, wrong_method=wrong_method)


def reviewers(method: str, ok: int | Redirect, why: str = "", wrong_method: int | Redirect = 405) -> Expect:
    return Expect(method, LOGIN, 403, 403, ok, why, reviewer=ok, wrong_method=wrong_method)


def admins(method: str, ok: int | Redirect, why: str = "", wrong_method: int | Redirect = 405) -> Expect:
    return Expect(method, LOGIN, 403, 403, ok, why, reviewer=403, wrong_method=wrong_method)


NO_VERSION = "a change without the article's version is refused (400) once the role is checked"

EXPECTATIONS: dict[str, Expect] = {
    "": Expect("GET", LOGIN, Redirect("/articles/"), Redirect("/articles/"), Redirect("/articles/"), "a redirect"),
    "articles/": editors("GET", 200),
    "articles/next/": editors("POST", Redirect("/articles/"), "takes work: a POST, never a link"),
    "articles/<int:pk>/": editors("GET", 200),
    "articles/<int:pk>/claim": editors("POST", Redirect("/articles/"), "takes a slot of an article annotated twice"),
    "articles/<int:pk>/history/": admins("GET", 200, "the audit trail: permission articles.view_spanevent"),
    "articles/preannotation/": editors("GET", 200),
    "articles/<int:pk>/spans/": editors("POST", 400, NO_VERSION),
    "articles/<int:pk>/spans/<int:span_id>/label": editors("POST", 400, NO_VERSION),
    "articles/<int:pk>/spans/<int:span_id>/accept": editors("POST", 400, NO_VERSION),
    "articles/<int:pk>/spans/<int:span_id>/resize": editors("POST", 400, NO_VERSION),
    "articles/<int:pk>/spans/<int:span_id>/delete": editors("POST", 400, NO_VERSION),
    "articles/<int:pk>/spans/<int:span_id>/everywhere": editors("POST", 400, NO_VERSION),
    "articles/<int:pk>/spans/accept": editors("POST", 400, NO_VERSION),
    "articles/<int:pk>/entities/<int:label_id>/": editors("GET", 200, "every text of one label, on demand"),
    "articles/<int:pk>/undo": editors("POST", 400, NO_VERSION),
    "articles/<int:pk>/review": editors("POST", 400, NO_VERSION),
    "suggestions/<int:pk>/accept": editors("POST", Redirect("/articles/")),
    "suggestions/<int:pk>/dismiss": editors("POST", Redirect("/articles/")),
    "review/": reviewers("GET", 200),
    "review/share": admins("POST", Redirect("/review/"), "no share given: a message on the review page"),
    "articles/<int:pk>/adjudicate/": reviewers("GET", 200),
    "articles/<int:pk>/adjudicate/decide": reviewers(
        "POST", Redirect("/articles/"), "no disagreement named: a message"
    ),
    "articles/<int:pk>/adjudicate/finish": reviewers(
        "POST", Redirect("/articles/"), "a disagreement is open: a message"
    ),
    "upload/": admins("GET", 200, wrong_method=400),  # POST uploads: no files, a message
    "upload/<int:pk>/": admins("GET", 200),
    "upload/<int:pk>/confirm/": admins("POST", Redirect("/upload/")),
    "export/": admins("GET", 200),
    "export/spans.<str:fmt>": admins("GET", 200),
    "quality/": admins("GET", 200),
    "quality/train": admins("POST", Redirect("/quality/"), "too few reviewed articles: a message"),
    "quality/training/": admins("GET", 200, "the training's progress box, as the quality page polls it"),
    "healthz": Expect("GET", 200, 200, 200, 200, "open to the load balancer"),
    "accounts/login/": Expect("GET", 200, 200, 200, 200, "open: the sign-in form", wrong_method=200),
    "accounts/logout/": Expect(
        "POST", LOGIN, Redirect("/accounts/login/"), Redirect("/accounts/login/"), Redirect("/accounts/login/")
    ),  # fmt: skip
    "accounts/password_change/": Expect(
        "GET", LOGIN, 200, 200, 200, "any signed-in user, their own password", wrong_method=200
    ),
    "accounts/password_change/done/": Expect("GET", LOGIN, 200, 200, 200),
    "i18n/setlang/": Expect(
        "POST", Redirect("/"), Redirect("/"), Redirect("/"), Redirect("/"), "open, for the login page"
    ),
    # Django's admin: admins only (articles/site/admin_site.py refuses signed-in non-admins with 403).
    # Its pages are forms, and answer a POST without data as a GET, or with the form's errors.
    "admin/": admins("GET", 200, wrong_method=200),
    "admin/login/": admins("GET", Redirect("/admin/"), "one sign-in page: /accounts/login/", Redirect("/admin/")),
    "admin/logout/": admins("POST", Redirect("/accounts/login/")),
    "admin/password_change/": admins("GET", 200, wrong_method=200),
    "admin/password_change/done/": admins("GET", 200),
    "admin/autocomplete/": admins("GET", 403, "no model offers autocompletion"),
    "admin/jsi18n/": admins("GET", 200),
    "admin/r/<path:content_type_id>/<path:object_id>/": admins(
        "GET", 404, "articles have no view-on-site URL", wrong_method=404
    ),
    "admin/^(?P<app_label>auth|axes|articles|django_tasks_database)/$": admins("GET", 200, wrong_method=200),
    "admin/(?P<url>.*)$": admins("GET", 404, "an unknown admin URL", wrong_method=404),
    "admin/auth/user/<id>/password/": admins("GET", 200, wrong_method=200),
}

# Each model in the admin, and what an admin may do with it there; the rest of the world gets
# 403 or the login page. Read-only models answer 403 to add and delete. "save": what a POST of an
# empty change form answers: the form's errors (200), 403 where nothing may change, or back to the
# list where every field is read-only (axes' rows: nothing to save).
ADMIN_MODELS = {
    "auth/group": {"add": 200, "delete": 200, "save": 200},
    "auth/user": {"add": 200, "delete": 200, "save": 200},
    "axes/accessattempt": {"add": 403, "delete": 200, "save": Redirect("/admin/axes/accessattempt/")},
    "axes/accesslog": {"add": 403, "delete": 200, "save": Redirect("/admin/axes/accesslog/")},
    "axes/accessfailurelog": {"add": 403, "delete": 200, "save": Redirect("/admin/axes/accessfailurelog/")},
    "articles/label": {"add": 200, "delete": 200, "save": 200},
    "articles/importbatch": {"add": 200, "delete": 200, "save": 200},
    "articles/article": {"add": 200, "delete": 200, "save": 200},
    "articles/span": {"add": 403, "delete": 403, "save": 403},  # spans change only through the workspace's verbs
    "articles/spanevent": {"add": 403, "delete": 403, "save": 403},  # the audit trail
    "articles/referencespan": {"add": 200, "delete": 200, "save": 200},
    "django_tasks_database/dbtaskresult": {"add": 403, "delete": 403, "save": 403},
}
for model, can in ADMIN_MODELS.items():
    EXPECTATIONS |= {
        # A POST to the list without an action chosen shows the list; to the delete page without its
        # confirmation, the confirmation page.
        f"admin/{model}/": admins("GET", 200, wrong_method=200),
        f"admin/{model}/add/": admins("GET", can["add"], wrong_method=can["add"]),
        f"admin/{model}/<path:object_id>/": admins(
            "GET", Redirect(f"/admin/{model}/"), wrong_method=Redirect(f"/admin/{model}/")
        ),
        f"admin/{model}/<path:object_id>/change/": admins("GET", 200, wrong_method=can["save"]),
        f"admin/{model}/<path:object_id>/history/": admins("GET", 200, wrong_method=200),
        f"admin/{model}/<path:object_id>/delete/": admins("GET", can["delete"], wrong_method=can["delete"]),
    }


def url_patterns(resolver: URLResolver = None, prefix: str = "") -> list[str]:
    """Every pattern of the project as its route, the includes' prefixes joined."""
    resolver = resolver or get_resolver()
    routes = []
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes += url_patterns(pattern, route)
        else:
            assert isinstance(pattern, URLPattern)
            routes.append(route)
    return routes


def concrete(route: str, world: World) -> str:
    """The route with real ids of the world's objects in place of its parameters."""
    admin_model = re.match(r"admin/(\w+)/(\w+)/", route)

    def value(name: str) -> str:
        if name == "pk":
            if "/adjudicate/" in route:
                return str(world.double.pk)
            kind = {"upload/": "checked_batch", "suggestions/": "suggestion"}
            return str(next((getattr(world, k) for p, k in kind.items() if route.startswith(p)), world.article).pk)
        if name == "object_id" and admin_model:
            return str(apps.get_model(*admin_model.groups()).objects.order_by("pk").last().pk)
        return {
            "span_id": str(world.span.pk),
            "label_id": str(world.span.label_id),
            "fmt": "csv",
            "content_type_id": str(article_content_type().pk),
            "object_id": str(world.article.pk),
            "id": str(world.villain.pk),
            "app_label": "articles",
            "url": "no-such-page/",
        }[name]

    url = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: value(m.group(1)), route)
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: value(m.group(1)), url)
    return "/" + url.replace("^", "").replace("$", "")


@dataclass(frozen=True)
class Answer:
    status: int
    location: str
    content: str
    cache_control: set[str]  # the directives of Cache-Control, without their values


def ask(user: AbstractBaseUser | None, method: str, url: str) -> Answer:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    token = client.get("/accounts/login/").cookies["csrftoken"].value
    response = getattr(client, method.lower())(url, HTTP_X_CSRFTOKEN=token)
    content = response.content if not response.streaming else b""
    if response.streaming:
        b"".join(response.streaming_content)  # read to its end, which closes it (a file, a cursor)
    directives = {d.split("=")[0].strip() for d in response.get("Cache-Control", "").split(",") if d.strip()}
    return Answer(response.status_code, response.get("Location", ""), content.decode(errors="replace"), directives)


def matches(expected, status: int, location: str, url: str) -> bool:
    if expected == LOGIN:
        return status == 302 and location.startswith("/accounts/login/?next=")
    if isinstance(expected, Redirect):
        return status == 302 and location.startswith(expected.to)
    return status == expected


def test_every_url_pattern_has_an_expectation_written_down():
    missing = [route for route in url_patterns() if route not in EXPECTATIONS]
    assert missing == [], "Write down who may use these URLs in EXPECTATIONS"
    stale = [route for route in EXPECTATIONS if route not in url_patterns()]
    assert stale == [], "These expectations match no URL any more"


def test_every_url_answers_each_role_as_written_down(world, admin, reviewer, editor, outsider):
    AccessAttempt.objects.create(user_agent="x", ip_address="127.0.0.1", username="x", http_accept="x",
                                 path_info="/", get_data="", post_data="", failures_since_start=1)  # fmt: skip
    AccessLog.objects.create(user_agent="x", ip_address="127.0.0.1", username="x", http_accept="x", path_info="/")
    AccessFailureLog.objects.create(user_agent="x", ip_address="127.0.0.1", username="x", http_accept="x",
                                    path_info="/")  # fmt: skip
    quality.refresh_quality.enqueue()
    users = {"anonymous": None, "outsider": outsider, "editor": editor, "reviewer": reviewer, "admin": admin}
    wrong, pages = [], 0
    for route in url_patterns():
        expect = EXPECTATIONS[route]
        url = concrete(route, world)
        for role in ROLES:
            answer = ask(users[role], expect.method, url)
            status, location, content = answer.status, answer.location, answer.content
            expected = getattr(expect, role)
            if not matches(expected, status, location, url):
                wrong.append(f"{expect.method} {url} as {role}: {status} {location} (expected {expected})")
            # A signed-in user's answers, whatever they are, are kept by no cache.
            if role != "anonymous" and not {"private", "no-store"} <= answer.cache_control:
                wrong.append(f"{expect.method} {url} as {role}: Cache-Control {sorted(answer.cache_control)}")
            # Whatever a page shows, nothing in it runs as script and no password hash is in it.
            assert not [raw for raw in RAW if raw in content], f"{url} as {role} shows markup unescaped"
            assert not re.search(JAVASCRIPT_URL_ATTRIBUTE, content), f"{url} as {role} links to javascript:"
            for user in (admin, editor, world.villain):
                assert user.password.split("$")[-1] not in content, f"{url} as {role} shows a password hash"
            pages += status == 200
        answer = ask(admin, expect.other_method, url)
        if not matches(expect.wrong_method, answer.status, answer.location, url):
            wrong.append(
                f"{expect.other_method} {url} as admin: {answer.status} {answer.location} "
                f"(expected {expect.wrong_method} for the wrong method)"
            )
    assert wrong == [], "\n".join(wrong)
    assert pages > 60


def test_static_files_may_be_cached_even_for_a_signed_in_user(editor):
    assert "no-store" not in ask(editor, "GET", "/static/workspace.js").cache_control
    assert {"private", "no-store"} <= ask(editor, "GET", "/accounts/login/").cache_control
