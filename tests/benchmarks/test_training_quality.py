"""Retraining on real newswire: CoNLL-2002's training stories imported as reviewed, ``train_model`` run
as an operator runs it (its own process, one core), the promoted model scored on the development stories.

Targets: at least 0.83 exact-match F1 on esp.testa, at most 5 minutes of CPU for the whole command
(start-up included), under 2 GB of memory. Run with ``make bench``; prints the figures quoted in
docs/benchmarks.md ("Quality"), and writes them to var/benchmarks/training.json.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from articles.ingest import conll
from articles.ingest.records import ArticleRecord
from articles.models import Article, TrainedModel
from articles.nlp import pipeline, training
from tests.benchmarks import corpus
from tests.processes import ROOT

pytestmark = pytest.mark.django_db(transaction=True)

TARGET_F1 = 0.83
TARGET_CPU_SECONDS = 5 * 60
TARGET_MEMORY_MB = 2048


def stories(path: Path) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """The file's stories as the importer reads them: text and gold spans."""
    with path.open(encoding="utf-8") as lines:
        return [(r.text, r.spans) for r in conll.read_conll(lines, path.name) if isinstance(r, ArticleRecord)]


def test_retraining_on_conll_2002_reaches_0_83_f1_on_testa_in_5_minutes_of_one_core(child_env, tmp_path, conll2002_es):
    call_command("import_articles", str(conll2002_es / "esp.train"), "--reviewed", "--no-preannotate")
    print(f"\nimported {Article.objects.count()} reviewed stories of esp.train")
    env = child_env | {"MODELS_DIR": str(tmp_path / "models")}

    log = tmp_path / "train_model.log"
    with log.open("w") as out:
        run = corpus.run_command(
            [sys.executable, "manage.py", "train_model"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    output = log.read_text()
    wall, cpu, peak_mb = run.seconds, run.cpu_seconds, run.peak_mb
    print(output)
    assert run.returncode == 0, output

    trained = TrainedModel.objects.get()
    assert trained.active, "the retrained model was not promoted"
    testa = stories(conll2002_es / "esp.testa")
    scores = training.score(pipeline.read(trained.path), testa)
    base = training.score(pipeline.read(settings.SPACY_MODEL), testa)
    figures = {
        "machine": f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end",
        "train_stories": trained.train_articles + trained.dev_articles,
        "learnt_from": trained.learnt_from,
        "held_out": {
            "articles": trained.dev_articles,
            "old_f": trained.scores["old"]["f"],
            "new_f": trained.scores["new"]["f"],
        },
        "best_iteration": trained.scores["best_iteration"],
        "testa": {"stories": len(testa), "base": _rounded(base), "retrained": _rounded(scores)},
        "cpu_minutes": round(cpu / 60, 2),
        "wall_minutes": round(wall / 60, 2),
        "peak_memory_mb": round(peak_mb),
    }
    report = Path(settings.BASE_DIR) / "var" / "benchmarks" / "training.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))
    missed = [
        f"{what}: {measured}, target {target}"
        for what, measured, target, met in [
            ("exact F1 on esp.testa", f"{scores['f']:.3f}", f"≥ {TARGET_F1}", scores["f"] >= TARGET_F1),
            ("CPU", f"{cpu / 60:.2f} min", f"≤ {TARGET_CPU_SECONDS / 60:.0f} min", cpu <= TARGET_CPU_SECONDS),
            ("peak memory", f"{peak_mb:.0f} MB", f"< {TARGET_MEMORY_MB} MB", peak_mb < TARGET_MEMORY_MB),
        ]
        if not met
    ]
    assert not missed, "; ".join(missed)


def _rounded(scores: dict) -> dict:
    return {
        "p": round(scores["p"], 4),
        "r": round(scores["r"], 4),
        "f": round(scores["f"], 4),
        "per_label": {label: round(s["f"], 4) for label, s in scores["per_label"].items()},
    }
