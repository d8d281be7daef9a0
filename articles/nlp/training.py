"""Fine-tuning the pre-annotation pipeline's entity recogniser on the editors' reviewed articles.

The reviewed articles are split by article (seeded, so a run can be repeated): the new model learns
from one part and both it and the model it started from are scored on the other. The new pipeline is
written to ``settings.MODELS_DIR/<name>-<version>/`` and becomes the active model (``pipeline.active``
then uses it) only if it scores better there, or when forced.

spaCy is imported when training starts: the web server imports this module to queue ``train_model``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Max
from django.tasks import task

from articles.models import Article, Span, TrainedModel
from articles.nlp import pipeline
from articles.nlp.preannotation import preannotate

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.training import Example

NAME = "annotator_ner"
DEV_FRACTION = 0.2
# Small batches and a gentle rate: a new label's loss spikes before it settles; these settle on a few dozen articles.
BATCH_SIZE = 4
LEARN_RATE = 0.0005
DROPOUT = 0.2


class TrainingRefused(Exception):
    pass


@dataclass(frozen=True)
class Outcome:
    model: TrainedModel
    activated: bool

    @property
    def old(self) -> dict[str, Any]:
        return self.model.scores["old"]

    @property
    def new(self) -> dict[str, Any]:
        return self.model.scores["new"]


type Annotated = tuple[str, list[tuple[int, int, str]]]


def reviewed_corpus() -> dict[int, Annotated]:
    """Every reviewed article's body and final spans, by article id."""
    corpus: dict[int, Annotated] = {
        pk: (body, [])
        for pk, body in Article.objects.filter(status=Article.Status.REVIEWED).order_by("id").values_list("id", "body")
    }
    spans = Span.objects.filter(article__status=Article.Status.REVIEWED).order_by("article_id", "start")
    for article_id, start, end, label in spans.values_list("article_id", "start", "end", "label__name"):
        corpus[article_id][1].append((start, end, label))
    return corpus


def split(ids: list[int], seed: int, dev_fraction: float = DEV_FRACTION) -> tuple[list[int], list[int]]:
    """(train, dev) article ids: the same ids and seed always give the same split."""
    shuffled = sorted(ids)
    random.Random(seed).shuffle(shuffled)  # noqa: S311 (a reproducible split, not a secret)
    n_dev = max(1, round(len(shuffled) * dev_fraction))
    return sorted(shuffled[n_dev:]), sorted(shuffled[:n_dev])


def examples(model: Language, documents: list[Annotated]) -> list[Example]:
    from spacy.training import Example  # spaCy: see the module's docstring

    out = []
    for body, spans in documents:
        doc = model.make_doc(body)
        # A span whose edges fall inside a token cannot be learnt by a token tagger: left out.
        entities = [(s, e, label) for s, e, label in spans if doc.char_span(s, e) is not None]
        out.append(Example.from_dict(doc, {"entities": entities}))
    return out


def score(model: Language, dev: list[Example]) -> dict[str, Any]:
    with model.select_pipes(enable=pipeline.ner_pipes(model)):
        scores = model.evaluate(dev)
    return {
        "p": scores["ents_p"],
        "r": scores["ents_r"],
        "f": scores["ents_f"],
        "per_label": scores["ents_per_type"] or {},
    }


def train(
    *,
    iterations: int = 20,
    seed: int = 0,
    force: bool = False,
    min_articles: int | None = None,
    user: AbstractBaseUser | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> Outcome:
    import spacy  # see the module's docstring

    minimum = settings.TRAIN_MIN_ARTICLES if min_articles is None else min_articles
    corpus = reviewed_corpus()
    if len(corpus) < max(minimum, 2):
        raise TrainingRefused(
            f"Training needs at least {max(minimum, 2)} reviewed articles; there are {len(corpus)}: "
            f"review {max(minimum, 2) - len(corpus)} more (TRAIN_MIN_ARTICLES sets the minimum)."
        )
    base = pipeline.active_path()
    model = pipeline.read(base)
    train_ids, dev_ids = split(list(corpus), seed)
    train_set = examples(model, [corpus[pk] for pk in train_ids])
    dev_set = examples(model, [corpus[pk] for pk in dev_ids])
    old = score(model, dev_set)
    progress(f"{base} on {len(dev_ids)} held-out articles: F1 {old['f']:.3f}")

    labels = {label for pk in train_ids for _, _, label in corpus[pk][1]}
    for name in pipeline.ner_pipes(model):
        if model.get_pipe_meta(name).factory in {"ner", "beam_ner"}:
            for label in sorted(labels):
                model.get_pipe(name).add_label(label)
    optimizer = model.resume_training()
    optimizer.learn_rate = LEARN_RATE
    rng = random.Random(seed)  # noqa: S311 (reproducible shuffling, not a secret)
    with model.select_pipes(enable=pipeline.ner_pipes(model)):
        for iteration in range(iterations):
            rng.shuffle(train_set)
            losses: dict[str, float] = {}
            for batch in spacy.util.minibatch(train_set, size=BATCH_SIZE):
                model.update(batch, sgd=optimizer, drop=DROPOUT, losses=losses)
            progress(f"iteration {iteration + 1}/{iterations}: loss {sum(losses.values()):.1f}")
    new = score(model, dev_set)
    progress(f"new model on the same articles: F1 {new['f']:.3f}")

    version = (TrainedModel.objects.aggregate(last=Max("version"))["last"] or 0) + 1
    path = Path(settings.MODELS_DIR) / f"{NAME}-{version}"
    major, minor = spacy.about.__version__.split(".")[:2]
    model.meta.update(
        name=NAME, version=str(version), spacy_version=f">={spacy.about.__version__},<{major}.{int(minor) + 1}.0"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    model.to_disk(path)
    trained = TrainedModel.objects.create(
        name=NAME,
        version=version,
        path=str(path),
        base=base,
        train_articles=len(train_ids),
        dev_articles=len(dev_ids),
        scores={"old": old, "new": new, "seed": seed, "iterations": iterations},
        created_by=user,
    )
    better = new["f"] > old["f"]
    if better or force:
        activate(trained)
    return Outcome(trained, better or force)


@transaction.atomic
def activate(trained: TrainedModel | None) -> None:
    """Makes this model the one pre-annotation uses (None: back to ``settings.SPACY_MODEL``).

    The directory is loaded first: an unusable one raises ``pipeline.CorruptModel`` and the active model stays.
    """
    if trained is not None:
        pipeline.read(trained.path)
    # Lock the rows so two activations at once cannot both find none active (the unique constraint would refuse one).
    list(TrainedModel.objects.select_for_update().filter(active=True))
    TrainedModel.objects.filter(active=True).update(active=False)
    if trained is not None:
        TrainedModel.objects.filter(pk=trained.pk).update(active=True)
        trained.active = True


def pending_for_reannotation() -> list[int]:
    """Articles pre-annotated but not opened by an editor yet: the new model's output replaces the old one's."""
    return list(Article.objects.filter(status=Article.Status.PRE_ANNOTATED).values_list("id", flat=True))


@task()
def train_model(user_id: int | None = None, force: bool = False) -> dict[str, object]:
    """Retrains from reviewed articles; if the new model becomes active, pre-annotates unopened articles again."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    outcome = train(force=force, user=user)
    ids = pending_for_reannotation() if outcome.activated else []
    spans = preannotate(Article.objects.filter(pk__in=ids)).spans if ids else 0
    return {
        "model": str(outcome.model),
        "activated": outcome.activated,
        "old": outcome.old,
        "new": outcome.new,
        "spans": spans,
    }
