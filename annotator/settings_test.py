"""The test suite's overrides, all in one place."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-key-5f0c2b8e9d7a4c1e8b6f3a2d9c7e5b1a0f4d8c2e6a9b3f7d")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

from annotator.settings import *  # noqa: E402, F403

# argon2 is slow on purpose, and tests log in hundreds of times.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The live server of the browser tests speaks plain HTTP.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = WHITENOISE_USE_FINDERS = True
# Suggestions at once, not by a worker; tests of the worker's path turn it back on.
SUGGESTIONS_IN_BACKGROUND = False
