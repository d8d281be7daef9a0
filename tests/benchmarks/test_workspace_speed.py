"""The workspace's speed: span changes under 20 editors at once, and the page of a long article.

Run with ``make bench``; figures are printed and quoted in docs/benchmarks.md ("Editing workspace").
"""

import http.client
import json
import os
import queue
import random
import re
import statistics
import threading
import time
from urllib.parse import urlencode

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
from django.db import connections
from django.test import Client

from articles.models import Article, Span
from tests.conftest import _user

EDITORS = 20
CHANGES_PER_EDITOR = 40
# An editor reads before each change; half a second is a very fast one (20 of them make ~40
# changes a second together, far more than 20 people do).
THINK = (0.25, 0.75)
DEADLINE = 120  # seconds: the benchmark fails instead of hanging


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def article_with_spans(make_article, n: int, *, words_between: int = 1, title: str = "Artículo") -> Article:
    """An article of n names, each a model span, with free words between them."""
    parts, spans, at = [f"{title}. "], [], len(title) + 2
    for i in range(n):
        name = f"Nombre{i:05d}"
        spans.append((at, at + len(name), "PER"))
        filler = " ".join(f"palabra{j}" for j in range(words_between))
        chunk = f"{name} {filler}. "
        parts.append(chunk)
        at += len(chunk)
    return make_article("".join(parts).strip(), spans=spans, title=title)


class TimedApp:
    """Django's WSGI application, timing each request from its arrival to its rendered response."""

    def __init__(self) -> None:
        self.app = WSGIHandler()
        self.times: list[tuple[str, float, float]] = []
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        began, cpu = time.perf_counter(), time.thread_time()
        response = self.app(environ, start_response)
        took, cpu = time.perf_counter() - began, time.thread_time() - cpu
        with self.lock:
            self.times.append((environ["PATH_INFO"], took, cpu))
        return response


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


class PooledWSGIServer(WSGIServer):
    """A fixed pool of threads that keep their database connections, as gunicorn's gthread
    workers do (Django's live server starts a thread, and a connection, per request)."""

    def __init__(self, address, handler, *, threads: int) -> None:
        super().__init__(address, handler, allow_reuse_address=False)
        self.requests: queue.Queue = queue.Queue()
        self.workers = [threading.Thread(target=self._work, daemon=True) for _ in range(threads)]
        for worker in self.workers:
            worker.start()

    def process_request(self, request, client_address) -> None:
        self.requests.put((request, client_address))

    def _work(self) -> None:
        while (item := self.requests.get()) is not None:
            request, address = item
            try:
                self.finish_request(request, address)
            except Exception:
                self.handle_error(request, address)
            finally:
                self.shutdown_request(request)
        connections.close_all()

    def server_close(self) -> None:
        for _ in self.workers:
            self.requests.put(None)
        for worker in self.workers:
            worker.join(timeout=10)
        super().server_close()


class Editor(threading.Thread):
    """One editor: creates an entity on a free word, relabels it, accepts it, deletes it; again."""

    def __init__(self, port: int, article: Article, session: str, csrf: str) -> None:
        super().__init__(daemon=True)
        self.port, self.article, self.session, self.csrf = port, article, session, csrf
        self.version = article.version
        self.failures: list[str] = []
        self.free = [m.start() for m in re.finditer(r"palabra0", article.body)]
        self.rng = random.Random(article.pk)  # noqa: S311 (think times, not secrets)

    def post(self, path: str, data: dict) -> str:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        body = urlencode(data | {"version": self.version})
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"sessionid={self.session}; csrftoken={self.csrf}",
            "X-CSRFToken": self.csrf,
            "HX-Request": "true",
        }
        connection.request("POST", path, body, headers)
        response = connection.getresponse()
        html = response.read().decode()
        answer = json.loads(response.getheader("HX-Trigger-After-Swap") or "{}").get("workspace-answer", {})
        connection.close()
        if response.status != 200:
            self.failures.append(f"{path}: {response.status} {html[:200]}")
        if answer.get("version"):
            self.version = answer["version"]
        self.selected = answer.get("select")
        return html

    def think(self) -> None:
        time.sleep(self.rng.uniform(*THINK))  # the editor reads before acting

    def run(self) -> None:
        base = f"/articles/{self.article.pk}/spans/"
        for i in range(CHANGES_PER_EDITOR // 4):
            start = self.free[i % len(self.free)]
            self.think()
            self.post(base, {"start": start, "end": start + 8, "label": "MISC"})
            span = self.selected
            for path, data in [("label", {"label": "LOC"}), ("accept", {}), ("delete", {})]:
                self.think()
                self.post(f"{base}{span}/{path}", data)


@pytest.mark.django_db(transaction=True)
def test_span_changes_with_twenty_editors_at_once(make_article, settings):
    # As in production: the suggestions a change offers elsewhere are a worker's job, not the request's.
    settings.SUGGESTIONS_IN_BACKGROUND = True
    editors = [_user(f"editor{i}", "editor") for i in range(EDITORS)]
    articles = [article_with_spans(make_article, 300, title=f"Artículo {i}") for i in range(EDITORS)]
    app = TimedApp()
    server = PooledWSGIServer(("127.0.0.1", 0), QuietHandler, threads=8)
    server.set_app(app)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    try:
        threads = []
        for user, article in zip(editors, articles, strict=True):
            client = Client()
            client.force_login(user)
            client.get("/accounts/login/")
            threads.append(
                Editor(server.server_port, article, *(client.cookies[c].value for c in ["sessionid", "csrftoken"]))
            )
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=max(1, DEADLINE - (time.perf_counter() - began)))
        assert not any(t.is_alive() for t in threads), f"editors still working after {DEADLINE} s"
    finally:
        server.shutdown()
        server.server_close()
    assert [f for t in threads for f in t.failures] == []
    ms = [took * 1000 for path, took, _ in app.times if "/spans/" in path]
    cpu = [cpu * 1000 for path, _, cpu in app.times if "/spans/" in path]
    assert len(ms) == EDITORS * CHANGES_PER_EDITOR
    assert Span.objects.filter(origin="editor").count() == 0  # every created span was deleted again
    median, p99 = statistics.median(ms), percentile(ms, 99)
    print(
        f"\nspan changes, {EDITORS} editors at once, 300-span articles: {len(ms)} changes in "
        f"{time.perf_counter() - began:.1f} s; server time median {median:.1f} ms, p95 {percentile(ms, 95):.1f} ms, "
        f"p99 {p99:.1f} ms, max {max(ms):.1f} ms; the server's own CPU time per change median "
        f"{statistics.median(cpu):.1f} ms; machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    assert median < 15
    assert p99 < 50


@pytest.mark.django_db
def test_the_page_of_a_long_article(make_article, editor):
    article = article_with_spans(make_article, 1500, words_between=13)
    assert len(article.body.split()) >= 20_000
    client = Client()
    client.force_login(editor)
    client.get(f"/articles/{article.pk}/")  # opens it for review, warms the caches
    ms = []
    for _ in range(15):
        began = time.perf_counter()
        response = client.get(f"/articles/{article.pk}/")
        ms.append((time.perf_counter() - began) * 1000)
    assert response.content.decode().count("data-span-id=") == 1500
    median = statistics.median(ms)
    print(
        f"\nworkspace page, {len(article.body.split())} words, 1500 spans, {len(response.content) // 1024} KiB: "
        f"median {median:.1f} ms, max {max(ms):.1f} ms"
    )
    assert median < 150
