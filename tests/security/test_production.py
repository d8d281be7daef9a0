"""Production settings, loaded as a server would load them (DEBUG off), in a process of their own."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRONG = secrets.token_urlsafe(50)
READ_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({name: getattr(settings, name) for name in [
    "DEBUG", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SECURE", "CSRF_COOKIE_HTTPONLY", "CSRF_COOKIE_SAMESITE", "CSRF_FAILURE_VIEW",
    "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_CONTENT_TYPE_NOSNIFF", "X_FRAME_OPTIONS",
    "PASSWORD_HASHERS", "ALLOWED_HOSTS", "AXES_FAILURE_LIMIT"]}))
"""


def production(*args: str, **env: str) -> subprocess.CompletedProcess:
    """A Python process with the production settings and only the environment given."""
    ours = {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "TRUSTED_PROXY_COUNT"}
    # Not the test settings' variables, nor those the test run sets for itself (DJANGO_*).
    environ = {k: v for k, v in os.environ.items() if k not in ours and not k.startswith("DJANGO_")}
    environ |= {"DJANGO_SETTINGS_MODULE": "annotator.settings", **env}
    return subprocess.run(  # noqa: S603 (this interpreter, the project's own code)
        [sys.executable, *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120, check=False
    )


def test_cookies_are_secure_http_only_and_same_site_in_production():
    done = production("-c", READ_SETTINGS, SECRET_KEY=STRONG, DEBUG="0", ALLOWED_HOSTS="annotator.example")
    assert done.returncode == 0, done.stderr
    values = json.loads(done.stdout)
    assert values["DEBUG"] is False
    assert (values["SESSION_COOKIE_SECURE"], values["SESSION_COOKIE_HTTPONLY"]) == (True, True)
    assert (values["CSRF_COOKIE_SECURE"], values["CSRF_COOKIE_HTTPONLY"]) == (True, True)
    assert values["SESSION_COOKIE_SAMESITE"] == values["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert values["CSRF_FAILURE_VIEW"] == "articles.site.views.csrf_failure"
    assert values["SECURE_SSL_REDIRECT"] is True and values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_CONTENT_TYPE_NOSNIFF"] is True and values["X_FRAME_OPTIONS"] == "DENY"
    assert values["PASSWORD_HASHERS"][0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert values["ALLOWED_HOSTS"] == ["annotator.example"] and values["AXES_FAILURE_LIMIT"] == 5


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (None, "SECRET_KEY is required when DEBUG is off"),
        ("changeme", "SECRET_KEY is too weak: use at least 50 random characters."),
        ("a" * 60, "SECRET_KEY is too weak: use at least 50 random characters."),
    ],
)
def test_the_app_refuses_to_start_without_a_strong_secret_key(key, message):
    env = {"DEBUG": "0", "ALLOWED_HOSTS": "annotator.example"} | ({} if key is None else {"SECRET_KEY": key})
    done = production("manage.py", "check", **env)
    assert done.returncode != 0
    assert message in done.stderr


def test_a_mistyped_debug_is_refused_not_taken_as_off():
    done = production("manage.py", "check", DEBUG="flase", SECRET_KEY=STRONG)
    assert done.returncode != 0 and "DEBUG='flase' is not a boolean" in done.stderr


@pytest.mark.parametrize(
    ("count", "message"),
    [("-1", "TRUSTED_PROXY_COUNT=-1 is not a number of proxies"), ("one", "TRUSTED_PROXY_COUNT='one' is not a whole")],
)
def test_a_wrong_number_of_trusted_proxies_is_refused(count, message):
    done = production("manage.py", "check", DEBUG="0", SECRET_KEY=STRONG, TRUSTED_PROXY_COUNT=count)
    assert done.returncode != 0 and message in done.stderr


def test_djangos_deployment_checks_pass_on_the_production_settings():
    done = production(
        "manage.py", "check", "--deploy", "--fail-level", "WARNING",
        SECRET_KEY=STRONG, DEBUG="0", ALLOWED_HOSTS="annotator.example",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues" in done.stdout


def test_behind_a_proxy_that_redirects_to_https_the_checks_still_pass():
    done = production(
        "manage.py", "check", "--deploy", "--fail-level", "WARNING",
        SECRET_KEY=STRONG, DEBUG="0", ALLOWED_HOSTS="annotator.example", SECURE_SSL_REDIRECT="0",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
