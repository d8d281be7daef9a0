"""How fast articles with their spans get in, and how little memory an import takes. Run by `make bench`.

The figures are printed and quoted in docs/benchmarks.md ("Importing") and docs/importing.md.
"""

import http.client
import json
import os
import random
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import psutil
import pytest
from django.db import connection, transaction
from django.test import Client

from articles.ingest.indexing import build_pending
from articles.models import Article, ArticleSearch, ImportBatch, Span
from tests.benchmarks import corpus
from tests.processes import ROOT

ARTICLE_LENGTH = 3000
SPANS_PER_ARTICLE = 40
LABELS = ["PER", "LOC", "ORG", "MISC"]
WORDS = (
    "el la de que y en un los se del las por con una para su al lo como más pero sus le ya o este sí porque esta "
    "entre cuando muy sin sobre también me hasta hay donde quien desde todo nos durante todos uno les ni contra "
    "otros ese eso ante ellos e esto mí antes algunos qué unos yo otro otras otra él tanto esa estos mucho "
    "Madrid Moscú Putin Rusia gobierno presidente ministro año años país según después mientras niño acción".split()
)


def article_line(number: int, rng: random.Random, spans: int = 0) -> str:
    """One JSONL record of exactly ARTICLE_LENGTH characters of text, different for each number, with
    ``spans`` Prodigy spans over words spread through it."""
    text, words = f"Noticia {number:09d}. ", []
    while len(text) < ARTICLE_LENGTH:
        word = rng.choice(WORDS)
        words.append((len(text), len(text) + len(word)))
        text += word + rng.choice("    ,.")
    record: dict = {"text": text[:ARTICLE_LENGTH]}
    if spans:
        words = [w for w in words[1:] if w[1] <= ARTICLE_LENGTH]
        step = len(words) // spans
        record["spans"] = [{"start": s, "end": e, "label": rng.choice(LABELS)} for s, e in words[::step][:spans]]
    return json.dumps(record, ensure_ascii=False) + "\n"


def write_jsonl(path: Path, count: int, spans: int = 0) -> Path:
    rng = random.Random(count)  # noqa: S311 (made-up news, not secrets)
    with path.open("w", encoding="utf-8") as out:
        for number in range(count):
            out.write(article_line(number, rng, spans))
    return path


def import_command(path: Path, env: dict[str, str]) -> corpus.Run:
    """``manage.py import_articles FILE --no-preannotate`` in its own process, as a user runs it."""
    command = [sys.executable, "manage.py", "import_articles", str(path), "--no-preannotate"]
    return corpus.run_command(command, cwd=ROOT, env=env)


@pytest.mark.django_db(transaction=True)
def test_ten_thousand_articles_with_spans_import_in_under_2_3_seconds_and_a_hundred_thousand_scale(tmp_path, child_env):
    # A user's Python keeps its compiled modules; a machine that says not to write them would compile
    # whatever has none at every run (docs/benchmarks.md, "Start-up").
    env = {k: v for k, v in child_env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    warm = import_command(write_jsonl(tmp_path / "1.jsonl", 1, SPANS_PER_ARTICLE), env)
    assert warm.returncode == 0
    start_up = import_command(write_jsonl(tmp_path / "1b.jsonl", 1, SPANS_PER_ARTICLE), env)
    print(f"\nstart-up and a one-article import: {start_up.seconds:.2f} s, {start_up.peak_mb:.0f} MB")
    Article.objects.all().delete()

    small = write_jsonl(tmp_path / "10k.jsonl", 10_000, SPANS_PER_ARTICLE)
    corpus.settle()
    database = corpus.database_cpu()
    ten = import_command(small, env)
    database = corpus.database_cpu() - database if database is not None else float("nan")
    assert ten.returncode == 0
    assert (Article.objects.count(), Span.objects.count()) == (10_000, 10_000 * SPANS_PER_ARTICLE)
    print(
        f"10,000 articles of {ARTICLE_LENGTH} characters, {10_000 * SPANS_PER_ARTICLE:,} spans: {ten.seconds:.2f} s "
        f"({10_000 / ten.seconds:,.0f} articles/s), peak {ten.peak_mb:.0f} MB; "
        f"CPU: the command {ten.cpu_seconds:.2f} s, PostgreSQL {database:.2f} s; load average {os.getloadavg()[0]:.1f}"
    )

    # The floor for any client: PostgreSQL storing the same rows again from bytes already encoded,
    # with the tables' indexes and constraints, without and with the triggers (the spans' check).
    rows = copied(["articles_article", "articles_span"])
    bare = store(rows, triggers=False)
    corpus.settle()
    floor = store(rows)
    assert (Article.objects.count(), Span.objects.count()) == (10_000, 10_000 * SPANS_PER_ARTICLE)
    print(
        f"PostgreSQL alone storing the same rows (COPY of bytes already encoded): {floor[0]:.2f} s, "
        f"{floor[1]:.2f} s of its CPU ({bare[0]:.2f} s and {bare[1]:.2f} s without the triggers); "
        f"with the start-up, {start_up.seconds + floor[0]:.2f} s"
    )
    del rows

    # What the import leaves to a worker: the search rows (Spanish document, trigram-indexed body copy).
    started = time.perf_counter()
    built = build_pending()
    indexing = time.perf_counter() - started
    assert built == 10_000 and not ArticleSearch.objects.pending().exists()
    print(
        f"their search rows, built after the import (index_articles): {indexing:.2f} s ({indexing / 10:.2f} ms/article)"
    )

    Article.objects.all().delete()
    large_file = write_jsonl(tmp_path / "100k.jsonl", 100_000, SPANS_PER_ARTICLE)
    corpus.settle()
    hundred = import_command(large_file, env)
    assert hundred.returncode == 0 and Article.objects.count() == 100_000
    print(
        f"100,000 articles, {100_000 * SPANS_PER_ARTICLE:,} spans: {hundred.seconds:.1f} s "
        f"({hundred.seconds / ten.seconds:.1f}x the time of 10,000), peak {hundred.peak_mb:.0f} MB"
    )
    assert ten.seconds < 2.3
    assert hundred.seconds <= 11 * ten.seconds
    # Flat memory: ten times the articles, about the same peak.
    assert hundred.peak_mb < ten.peak_mb + 64


def copied(tables: list[str]) -> dict[str, bytes]:
    """The tables' rows as ``COPY TO`` gives them, then the articles deleted (and the database settled)."""
    rows = {}
    with connection.cursor() as cursor:
        for table in tables:
            with cursor.cursor.copy(f"COPY {table} TO STDOUT (FORMAT BINARY)") as copy:
                rows[table] = b"".join(copy)
    Article.objects.all().delete()
    corpus.settle()
    return rows


def store(rows: dict[str, bytes], *, triggers: bool = True) -> tuple[float, float]:
    """Stores the rows in one transaction, one COPY a table from bytes already encoded: what
    PostgreSQL alone takes to store them, whatever the client. Without ``triggers`` (a superuser's
    ``session_replication_role``) the transaction is rolled back. Returns the wall time and
    PostgreSQL's CPU time."""
    database, started = corpus.database_cpu(), time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if not triggers:
            cursor.execute("SET LOCAL session_replication_role = replica")
        for table, data in rows.items():
            with cursor.cursor.copy(f"COPY {table} FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(data)
        seconds = time.perf_counter() - started
        transaction.set_rollback(not triggers)
    return seconds, corpus.database_cpu() - database if database is not None else float("nan")


class Multipart:
    """A multipart upload of a JSONL file generated while it is sent: the client holds no copy."""

    boundary = "----annotator-benchmark-boundary"

    def __init__(self, count: int, csrf: str) -> None:
        rng = random.Random(7)  # noqa: S311 (made-up news, not secrets)
        self.lines = count
        self.line = article_line(0, rng).encode()
        self.head = (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n{csrf}\r\n'
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.jsonl"\r\n'
            "Content-Type: application/x-ndjson\r\n\r\n"
        ).encode()
        self.tail = f"\r\n--{self.boundary}--\r\n".encode()

    def __len__(self) -> int:
        return len(self.head) + self.lines * len(self.line) + len(self.tail)

    def chunks(self) -> Iterator[bytes]:
        yield self.head
        for start in range(0, self.lines, 100):
            # Each line differs in its number only, so each is a new article of the same length.
            yield b"".join(
                self.line.replace(b"000000000", f"{n:09d}".encode(), 1)
                for n in range(start, min(start + 100, self.lines))
            )
        yield self.tail


@pytest.mark.django_db(transaction=True)
def test_the_servers_memory_stays_flat_while_a_200_mb_upload_streams_in(live_server, admin, settings, tmp_path):
    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"
    # The check (parsing all 200 MB) runs inside the request here, so the figure covers it too.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    client = Client()
    client.force_login(admin)
    client.get("/upload/")
    cookies = "; ".join(f"{k}={v.value}" for k, v in client.cookies.items())
    body = Multipart(200 * 1024**2 // (ARTICLE_LENGTH + 12), client.cookies["csrftoken"].value)

    process = psutil.Process()
    before = process.memory_info().rss
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.05):
            peak = max(peak, process.memory_info().rss)

    sampler = threading.Thread(target=sample)
    sampler.start()
    url = urlparse(live_server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=600)
    started = time.perf_counter()
    connection.putrequest("POST", "/upload/")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={Multipart.boundary}")
    connection.putheader("Content-Length", str(len(body)))
    connection.putheader("Cookie", cookies)
    connection.putheader("Referer", live_server.url + "/upload/")
    connection.endheaders()
    for chunk in body.chunks():
        connection.send(chunk)
    response = connection.getresponse()
    elapsed = time.perf_counter() - started
    status, content = response.status, response.read()
    connection.close()
    done.set()
    sampler.join()
    assert status == 302, content[:2000]
    batch = ImportBatch.objects.get()
    assert batch.status == "checked" and batch.preview["articles"] == body.lines, batch.errors[:3]
    growth = (peak - before) / 1024**2
    print(
        f"\nUpload of {len(body) / 1024**2:.0f} MB ({body.lines:,} articles) streamed and checked in {elapsed:.1f} s; "
        f"server RSS {before / 1024**2:.0f} MB before, peak {peak / 1024**2:.0f} MB (+{growth:.0f} MB)"
    )
    assert growth < 64

    # Then the import itself, which also runs in the request here.
    done.clear()
    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=600)
    form = f"csrfmiddlewaretoken={client.cookies['csrftoken'].value}"
    connection.request(
        "POST",
        f"/upload/{batch.pk}/confirm/",
        body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookies, "Referer": live_server.url},
    )
    status = connection.getresponse().status
    connection.close()
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    batch.refresh_from_db()
    assert status == 302 and batch.created_count == body.lines
    growth = (peak - before) / 1024**2
    print(
        f"Import of those {body.lines:,} articles: {elapsed:.1f} s; "
        f"server RSS peak {peak / 1024**2:.0f} MB (+{growth:.0f} MB)"
    )
    assert growth < 64
