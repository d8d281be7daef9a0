"""The sign-in lockout behind a reverse proxy: five wrong passwords lock one user from one client
address, read from X-Forwarded-For as TRUSTED_PROXY_COUNT says, never the user for everyone."""

import pytest
from django.test import Client

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"  # REMOTE_ADDR of every request: the proxy's
ATTACKER, COLLEAGUE = "203.0.113.7", "198.51.100.23"


def sign_in(forwarded_for: str, password: str, username: str = "eddie") -> int:
    """The status of a sign-in through the proxy, which sent this X-Forwarded-For."""
    client = Client(REMOTE_ADDR=PROXY)
    response = client.post(
        "/accounts/login/", {"username": username, "password": password}, HTTP_X_FORWARDED_FOR=forwarded_for
    )
    return response.status_code


def five_wrong_passwords(forwarded_for: str) -> None:
    assert [sign_in(forwarded_for, "wrong") for _ in range(5)] == [200] * 4 + [429]


def test_five_wrong_passwords_from_one_address_leave_the_user_free_from_another(settings, editor):
    settings.TRUSTED_PROXY_COUNT = 1
    five_wrong_passwords(ATTACKER)
    assert sign_in(COLLEAGUE, PASSWORD) == 302


def test_the_address_that_failed_five_times_is_locked_even_with_the_right_password(settings, editor, admin):
    settings.TRUSTED_PROXY_COUNT = 1
    five_wrong_passwords(ATTACKER)
    assert sign_in(ATTACKER, PASSWORD) == 429
    # What the client wrote in the header itself is never read: the proxy's entry, right-most, is.
    assert sign_in(f"{COLLEAGUE}, {ATTACKER}", PASSWORD) == 429
    # Another user from that address is not locked.
    assert sign_in(ATTACKER, PASSWORD, username="ada") == 302


def test_with_two_proxies_the_client_is_the_second_address_from_the_right(settings, editor):
    settings.TRUSTED_PROXY_COUNT = 2
    cdn = "192.0.2.50"
    five_wrong_passwords(f"{COLLEAGUE}, {ATTACKER}, {cdn}")  # the first entry is the attacker's own
    assert sign_in(f"{ATTACKER}, {cdn}", PASSWORD) == 429
    assert sign_in(f"{ATTACKER}, {COLLEAGUE}, {cdn}", PASSWORD) == 302


def test_without_trusted_proxies_the_header_is_ignored_and_the_address_is_the_peers(settings, editor):
    assert settings.TRUSTED_PROXY_COUNT == 0  # the default
    five_wrong_passwords(ATTACKER)
    # Behind a proxy left unconfigured, everyone shares its address: a forged header changes nothing.
    assert sign_in(COLLEAGUE, PASSWORD) == 429


def test_a_forwarded_entry_that_is_not_an_address_counts_as_the_peer(settings, editor):
    settings.TRUSTED_PROXY_COUNT = 1
    five_wrong_passwords("unknown")
    assert sign_in(COLLEAGUE, PASSWORD) == 302
    assert sign_in("", PASSWORD) == 429  # no header: the proxy's own address, which failed five times
