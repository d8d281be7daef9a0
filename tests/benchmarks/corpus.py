"""A deterministic corpus of Spanish news-like articles: the seed article's sentences mixed with
sentences built from templates, names, places and organisations, always the same for a seed."""

import contextlib
import os
import random
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
from django.conf import settings
from django.db import connection

from articles.ingest.records import normalise
from articles.ingest.seeds import read_highlighted
from articles.models import Article, content_hash

PEOPLE = [
    "Pedro Sánchez",
    "Alberto Núñez Feijóo",
    "Yolanda Díaz",
    "Isabel Díaz Ayuso",
    "Emmanuel Macron",
    "Olaf Scholz",
    "Giorgia Meloni",
    "Ursula von der Leyen",
    "Luiz Inácio Lula da Silva",
    "Gustavo Petro",
    "Claudia Sheinbaum",
    "Javier Milei",
    "Xi Jinping",
    "Vladimir Putin",
    "Volodímir Zelenski",
    "Kim Jong Un",
    "Antonio Guterres",
    "Christine Lagarde",
    "Nadia Calviño",
    "Carlos Cuerpo",
]
PLACES = [
    "Madrid",
    "Barcelona",
    "Sevilla",
    "Valencia",
    "Bilbao",
    "Bruselas",
    "París",
    "Berlín",
    "Roma",
    "Lisboa",
    "Buenos Aires",
    "Ciudad de México",
    "Bogotá",
    "Santiago de Chile",
    "Pekín",
    "Moscú",
    "Kiev",
    "Washington",
    "Nueva York",
    "Rabat",
    "Galicia",
    "Andalucía",
    "Cataluña",
    "Canarias",
]
ORGS = [
    "el Banco de España",
    "la Comisión Europea",
    "el Fondo Monetario Internacional",
    "la OTAN",
    "Naciones Unidas",
    "el Tribunal Supremo",
    "el Congreso de los Diputados",
    "Telefónica",
    "Iberdrola",
    "el Banco Central Europeo",
    "la Organización Mundial de la Salud",
    "Renfe",
    "el Real Madrid",
    "el FC Barcelona",
    "la Agencia Tributaria",
    "el Instituto Nacional de Estadística",
]
TEMPLATES = [
    "{person} se reunió este {day} en {place} con representantes de {org} para abordar la crisis energética.",
    "Según fuentes de {org}, {person} viajará a {place} la próxima semana para cerrar el acuerdo.",
    "El portavoz de {org} confirmó que {person} comparecerá el {day} ante la prensa en {place}.",
    "{person} defendió en {place} que las medidas aprobadas por {org} beneficiarán a {n} familias.",
    "La inflación se situó en el {p},{d} % en {month}, según los datos publicados por {org}.",
    "Miles de personas se manifestaron en {place} para pedir a {person} una solución inmediata.",
    "{org} anunció una inversión de {n} millones de euros en {place} durante los próximos cinco años.",
    "En declaraciones a la prensa, {person} aseguró que {org} no cambiará su política hasta {month}.",
    "El acuerdo firmado en {place} entre {org} y el Gobierno prevé {n} nuevos empleos antes de {month}.",
    "Los analistas consultados creen que la decisión de {person} tendrá consecuencias en {place}.",
]
DAYS = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]
MONTHS = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre"]


def seed_sentences() -> list[str]:
    [path] = (settings.BASE_DIR / "seeds").glob("*.txt")
    text, _ = read_highlighted(normalise(path.read_text(encoding="utf-8")))
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if len(s) > 20]


def _sentence(rng: random.Random) -> str:
    return rng.choice(TEMPLATES).format(
        person=rng.choice(PEOPLE),
        place=rng.choice(PLACES),
        org=rng.choice(ORGS),
        day=rng.choice(DAYS),
        month=rng.choice(MONTHS),
        n=rng.randint(2, 9000),
        p=rng.randint(1, 9),
        d=rng.randint(0, 9),
    )


def articles(
    total_chars: int = 0, sentences_per_article: tuple[int, int] = (10, 24), count: int = 0, seed: int = 2024
) -> list[str]:
    """Articles of a few paragraphs each, every one different: about total_chars characters in all,
    or count articles."""
    rng = random.Random(seed)  # noqa: S311 (a reproducible corpus, not a secret)
    seeds = seed_sentences()
    out, size = [], 0
    while (size < total_chars) if total_chars else (len(out) < count):
        low, high = sentences_per_article
        sentences = [rng.choice(seeds) if rng.random() < 0.5 else _sentence(rng) for _ in range(rng.randint(low, high))]
        paragraphs = [" ".join(sentences[i : i + 4]) for i in range(0, len(sentences), 4)]
        body = f"{_sentence(rng)}\n\n" + "\n\n".join(paragraphs) + f"\n\n(Nota {len(out) + 1})"
        out.append(body)
        size += len(body)
    return out


def store(bodies: list[str]) -> list[int]:
    """The bodies as new articles, in one insert per thousand."""
    created = Article.objects.bulk_create(
        (
            Article(title=body[:80], body=body, body_length=len(body), content_hash=content_hash(body))
            for body in bodies
        ),
        batch_size=1000,
    )
    return [a.pk for a in created]


def settle() -> None:
    """Vacuums, analyses and checkpoints, so that a measurement that follows does not pay for what
    came before it (autovacuum waking up on freshly written rows, dirty buffers written back)."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")


def words(bodies: list[str]) -> int:
    return sum(len(body.split()) for body in bodies)


def database_cpu() -> float | None:
    """CPU seconds the PostgreSQL server has used so far, all its processes, the ended ones
    included (those its postmaster has reaped); None when the server is not a process here."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    try:
        postmaster = psutil.Process(backend).parent()
        if postmaster is None:
            return None
        with postmaster.oneshot():
            own = postmaster.cpu_times()
        total = own.user + own.system + own.children_user + own.children_system
        for child in postmaster.children():
            with contextlib.suppress(psutil.NoSuchProcess):
                times = child.cpu_times()
                total += times.user + times.system
        return total
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


@dataclass
class Run:
    """A command run in its own process: wall time from start to exit, CPU time, peak memory."""

    seconds: float
    cpu_seconds: float
    peak_mb: float
    returncode: int


def run_command(command: list[str], **popen) -> Run:
    """Runs a command as a user would, in its own process, and measures it. The peak is the
    process's own resident high-water mark (VmHWM), read until it ends, not wait4's ru_maxrss:
    Linux carries the parent's mark across fork and exec, and the test process holds more."""
    started = time.perf_counter()
    process = subprocess.Popen(command, **popen)  # noqa: S603 (the benchmarks' own commands)
    status, peak_kb = Path(f"/proc/{process.pid}/status"), 0
    while True:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak_kb = max(peak_kb, int(line.split()[1]))
        pid, code, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            seconds = time.perf_counter() - started
            process.returncode = os.waitstatus_to_exitcode(code)
            return Run(seconds, usage.ru_utime + usage.ru_stime, peak_kb / 1024, process.returncode)
        time.sleep(0.02)
