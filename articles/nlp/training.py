"""Fine-tuning the pre-annotation pipeline's entity recogniser on the editors' reviewed articles.

The split, early stopping and when a model becomes active: docs/quality.md. spaCy is imported when
training starts: the web server imports this module only to queue ``train_model``.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import batched
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Self, cast

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max
from django.tasks import task

from articles.models import Article, Span, TrainedModel, TrainingRun
from articles.nlp import pipeline, training_runs
from articles.nlp.preannotation import preannotate
from articles.nlp.training_runs import Progress, TrainingRefused

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.training import Example

__all__ = ["Outcome", "Progress", "TrainingRefused", "activate", "train", "train_model"]

NAME = "annotator_ner"
DEV_FRACTION = 0.2
# Fewer held-out articles than this give a score that says nothing: refused.
MIN_HELD_OUT = 2
# Fewer held-out spans than this give a rough score: said so with the figures.
FEW_HELD_OUT_SPANS = 100
# A label with fewer reviewed spans is not learnt: neither taught nor taught against.
MIN_LABEL_SPANS = 10
# Later passes moved the score by less than the noise, and cost time a training does not have.
ITERATIONS = 10
PATIENCE = 3
BATCH_SIZE = 4
LEARN_RATE = 0.001
DROPOUT = 0.1


@dataclass(frozen=True)
class Outcome:
    model: TrainedModel
    activated: bool

    @property
    def old(self) -> dict[str, Any]:
        old: dict[str, Any] = self.model.scores["old"]
        return old

    @property
    def new(self) -> dict[str, Any]:
        new: dict[str, Any] = self.model.scores["new"]
        return new

    @property
    def few_held_out_spans(self) -> bool:
        spans: int = sum(self.model.dev_spans.values())
        return spans < FEW_HELD_OUT_SPANS


type Annotated = tuple[str, list[tuple[int, int, str]]]


def reviewed_corpus() -> dict[int, Annotated]:
    corpus: dict[int, Annotated] = {
        pk: (body, [])
        for pk, body in Article.objects.filter(status=Article.Status.REVIEWED).order_by("id").values_list("id", "body")
    }
    spans = Span.objects.filter(article__status=Article.Status.REVIEWED).order_by("article_id", "start")
    for article_id, start, end, label in spans.values_list("article_id", "start", "end", "label__name"):
        corpus[article_id][1].append((start, end, label))
    return corpus


def split(ids: list[int], seed: int, dev_fraction: float = DEV_FRACTION) -> tuple[list[int], list[int]]:
    """(train, dev) article ids, reproducible from the seed."""
    shuffled = sorted(ids)
    random.Random(seed).shuffle(shuffled)  # noqa: S311 (a reproducible split, not a secret)
    n_dev = max(1, round(len(shuffled) * dev_fraction))
    return sorted(shuffled[n_dev:]), sorted(shuffled[:n_dev])


def label_counts(documents: list[Annotated]) -> Counter[str]:
    return Counter(label for _, spans in documents for _, _, label in spans)


def examples(model: Language, documents: list[Annotated], skipped: set[str]) -> list[Example]:
    """Each article's entities on the model's own tokens.

    A span of a skipped label, or one whose edges fall inside a token, is marked unknown rather than
    left out: left out, its words would be taught as no entity.
    """
    from spacy.training import Example

    out = []
    for body, spans in documents:
        reference = model.make_doc(body)
        entities, unknown = [], []
        for start, end, label in spans:
            span = None if label in skipped else reference.char_span(start, end, label=label)
            if span is not None:
                entities.append(span)
            elif (around := reference.char_span(start, end, alignment_mode="expand")) is not None:
                unknown.append(around)
        taken = {i for span in entities for i in range(span.start, span.end)}
        unknown = [span for span in unknown if not taken & set(range(span.start, span.end))]
        reference.set_ents(entities, missing=unknown, default="outside")
        out.append(Example(model.make_doc(body), reference))
    return out


def score(model: Language, documents: list[Annotated]) -> dict[str, Any]:
    """Exact-match precision, recall and F1, overall and per label, on character offsets: a span no
    token boundary fits counts as missed, as the editors would see it."""
    mapping = pipeline.label_mapping(model)
    found: Counter[str] = Counter()
    right: Counter[str] = Counter()
    expected = label_counts(documents)
    with model.select_pipes(enable=pipeline.ner_pipes(model)):
        docs = model.pipe((body for body, _ in documents), batch_size=pipeline.BATCH_SIZE)
        for doc, (_, spans) in zip(docs, documents, strict=True):
            gold = set(spans)
            for ent in doc.ents:
                label = mapping.get(ent.label_, ent.label_)
                found[label] += 1
                right[label] += (ent.start_char, ent.end_char, label) in gold
    return {**_prf(right.total(), found.total(), expected.total()), "per_label": {
        label: _prf(right[label], found[label], expected[label]) for label in sorted(expected | found)
    }}  # fmt: skip


def _prf(right: int, found: int, expected: int) -> dict[str, float]:
    p = right / found if found else 0.0
    r = right / expected if expected else 0.0
    return {"p": p, "r": r, "f": 2 * p * r / (p + r) if p + r else 0.0}


@dataclass(frozen=True)
class Plan:
    corpus: dict[int, Annotated]
    train_ids: list[int]
    dev_ids: list[int]
    skipped: dict[str, int]

    @property
    def train_docs(self) -> list[Annotated]:
        return [self.corpus[pk] for pk in self.train_ids]

    @property
    def dev_docs(self) -> list[Annotated]:
        return [self.corpus[pk] for pk in self.dev_ids]


def articles_needed(min_articles: int | None = None) -> int:
    """TRAIN_MIN_ARTICLES (or ``min_articles``), and never fewer than leave MIN_HELD_OUT to score on."""
    held_out = next(n for n in range(2, 100 * MIN_HELD_OUT) if round(n * DEV_FRACTION) >= MIN_HELD_OUT)
    return max(settings.TRAIN_MIN_ARTICLES if min_articles is None else min_articles, held_out)


def plan(seed: int, min_articles: int | None) -> Plan:
    """The split and the labels to learn; TrainingRefused says how many more reviewed articles it needs."""
    minimum = articles_needed(min_articles)
    corpus = reviewed_corpus()
    if len(corpus) < minimum:
        why = (
            "TRAIN_MIN_ARTICLES sets the minimum"
            if minimum == (settings.TRAIN_MIN_ARTICLES if min_articles is None else min_articles)
            else f"a fifth is held out to score on, and a score on fewer than {MIN_HELD_OUT} articles says nothing"
        )
        raise TrainingRefused(
            f"Training needs at least {minimum} reviewed articles; there are {len(corpus)}: "
            f"review {minimum - len(corpus)} more ({why})."
        )
    train_ids, dev_ids = split(list(corpus), seed)
    counts = label_counts(list(corpus.values()))
    skipped = {label: n for label, n in sorted(counts.items()) if n < MIN_LABEL_SPANS}
    return Plan(corpus, train_ids, dev_ids, skipped)


def train(
    *,
    iterations: int = ITERATIONS,
    seed: int = 0,
    force: bool = False,
    min_articles: int | None = None,
    user: User | None = None,
    run: TrainingRun | None = None,
    progress: Callable[[Progress], None] = lambda progress: None,
) -> Outcome:
    """Trains, scores, saves and, if better, activates a new model; ``run``: the queued run a task carries."""
    if run is None:
        run = training_runs.begin(user, queued=False)
    else:
        training_runs.start(run)
    try:
        outcome = _train(run, iterations, seed, force, min_articles, user, progress)
    except Exception as error:
        training_runs.finish(run, error=str(error))
        raise
    training_runs.finish(run, model_id=outcome.model.pk)
    return outcome


class _Recognizer(Protocol):
    """What training asks of an entity recogniser, which spaCy's types call a plain callable."""

    def add_label(self, label: str) -> int: ...
    def to_bytes(self) -> bytes: ...
    def from_bytes(self, data: bytes) -> Self: ...


def _train(
    run: TrainingRun,
    iterations: int,
    seed: int,
    force: bool,
    min_articles: int | None,
    user: User | None,
    progress: Callable[[Progress], None],
) -> Outcome:
    import spacy
    from thinc.api import fix_random_seed

    # Dropout and the new label's weights draw from numpy's generator: seeded, a run can be repeated.
    fix_random_seed(seed)
    state = Progress(phase="scoring", iterations=iterations)

    def tell(**changes: Any) -> None:
        for key, value in changes.items():
            setattr(state, key, value)
        training_runs.report(run, state)
        progress(state)

    tell()
    the_plan = plan(seed, min_articles)
    base = pipeline.active_path()
    model = pipeline.read(base)
    old = score(model, the_plan.dev_docs)
    tell(old_f=old["f"])

    train_set = examples(model, the_plan.train_docs, set(the_plan.skipped))
    recognizers = {
        name: cast(_Recognizer, model.get_pipe(name))
        for name in pipeline.ner_pipes(model)
        if model.get_pipe_meta(name).factory in {"ner", "beam_ner"}
    }
    learnt = label_counts(the_plan.train_docs)
    for recognizer in recognizers.values():
        for label in sorted(set(learnt) - set(the_plan.skipped)):
            recognizer.add_label(label)
    optimizer = model.resume_training()
    optimizer.learn_rate = LEARN_RATE
    rng = random.Random(seed)  # noqa: S311 (reproducible shuffling, not a secret)
    best: tuple[float, int, dict[str, Any], dict[str, bytes]] | None = None
    with model.select_pipes(enable=pipeline.ner_pipes(model)):
        tell(phase="training")
        for iteration in range(1, iterations + 1):
            rng.shuffle(train_set)
            losses: dict[str, float] = {}
            for batch in batched(train_set, BATCH_SIZE):
                model.update(batch, sgd=optimizer, drop=DROPOUT, losses=losses)
            # Scored and kept with the averaged weights (steadier than the last update's).
            with model.use_params(optimizer.averages):
                scores = score(model, the_plan.dev_docs)
                if best is None or scores["f"] >= best[0]:  # a tie: the longer-trained one
                    best = (
                        scores["f"],
                        iteration,
                        scores,
                        {name: recognizer.to_bytes() for name, recognizer in recognizers.items()},
                    )
            loss = float(sum(losses.values()))
            tell(iteration=iteration, loss=loss, f=scores["f"], curve=[*state.curve, [iteration, loss, scores["f"]]])
            if iteration - best[1] >= PATIENCE:
                break
    assert best is not None  # noqa: S101 (iterations >= 1)
    _, best_iteration, new, weights = best
    for name, data in weights.items():
        recognizers[name].from_bytes(data)

    tell(phase="saving")
    version = (TrainedModel.objects.aggregate(last=Max("version"))["last"] or 0) + 1
    path = Path(settings.MODELS_DIR) / f"{NAME}-{version}"
    major, minor = spacy.about.__version__.split(".")[:2]
    model.meta.update(
        name=NAME, version=str(version), spacy_version=f">={spacy.about.__version__},<{major}.{int(minor) + 1}.0"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    model.to_disk(path)
    kept = {label: n for label, n in learnt.items() if label not in the_plan.skipped}
    trained = TrainedModel.objects.create(
        name=NAME,
        version=version,
        path=str(path),
        base=base,
        train_articles=len(the_plan.train_ids),
        dev_articles=len(the_plan.dev_ids),
        scores={
            "old": old,
            "new": new,
            "seed": seed,
            "iterations": iterations,
            "best_iteration": best_iteration,
            "held_out": the_plan.dev_ids,
        },
        learnt_from={
            "articles": len(the_plan.train_ids),
            "spans": sum(kept.values()),
            "per_label": dict(sorted(kept.items())),
        },
        dev_spans=dict(sorted(label_counts(the_plan.dev_docs).items())),
        skipped_labels=the_plan.skipped,
        created_by=user,
    )
    better = new["f"] > old["f"]
    if better or force:
        activate(trained)
    return Outcome(trained, better or force)


@transaction.atomic
def activate(trained: TrainedModel | None) -> None:
    """Makes this model the one pre-annotation uses (None: back to ``settings.SPACY_MODEL``).

    Loaded first: an unusable directory raises ``pipeline.CorruptModel`` and the active model stays.
    """
    if trained is not None:
        pipeline.read(trained.path)
    # Locked, so that two activations at once do not both find none active and trip the unique constraint.
    list(TrainedModel.objects.select_for_update().filter(active=True))
    TrainedModel.objects.filter(active=True).update(active=False)
    if trained is not None:
        TrainedModel.objects.filter(pk=trained.pk).update(active=True)
        trained.active = True


def pending_for_reannotation() -> list[int]:
    """Pre-annotated but not opened yet, except imports that declined pre-annotation."""
    articles = Article.objects.filter(status=Article.Status.PRE_ANNOTATED).left_to_the_model()
    return list(articles.values_list("id", flat=True))


def queue(user: User | None, force: bool = False) -> TrainingRun:
    """TrainingRefused while another is queued or running."""
    with transaction.atomic():
        run = training_runs.begin(user, queued=True)
        train_model.enqueue(run_id=run.pk, force=force)
    return run


@task()
def train_model(run_id: int | None = None, force: bool = False, user_id: int | None = None) -> dict[str, object]:
    """Retrains; if the new model becomes active, pre-annotates unopened articles again.

    ``user_id`` without ``run_id``: a task queued before training runs were recorded.
    """
    run = TrainingRun.objects.filter(pk=run_id).first() if run_id else None
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    outcome = train(force=force, user=run.created_by if run else user, run=run)
    ids = pending_for_reannotation() if outcome.activated else []
    spans = preannotate(Article.objects.filter(pk__in=ids)).spans if ids else 0
    return {
        "model": str(outcome.model),
        "activated": outcome.activated,
        "old": outcome.old,
        "new": outcome.new,
        "spans": spans,
    }
