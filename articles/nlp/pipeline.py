"""spaCy, loaded once per process with only the components that named-entity recognition needs.

spaCy is imported only when a pipeline is first read: most processes import this module without
running the model, and would pay spaCy's start-up for nothing.
"""

from __future__ import annotations

import functools
import logging
import re
import warnings
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, NamedTuple

from django.conf import settings

from articles.models import TrainedModel

if TYPE_CHECKING:
    from spacy.language import Language

# Also the articles a worker claims at a time.
BATCH_SIZE = 32
# Every pipeline's max_length, a constant so imports can refuse longer articles without loading spaCy.
MAX_LENGTH = 1_000_000
log = logging.getLogger(__name__)


class ModelSpan(NamedTuple):
    """An entity the model proposes, in code points, with the project's label name."""

    start: int
    end: int
    label: str


def active_path() -> str:
    """The active retrained model if any, else ``settings.SPACY_MODEL``."""
    active = TrainedModel.objects.filter(active=True).values_list("path", flat=True).first()
    return active or settings.SPACY_MODEL


class CorruptModel(Exception):
    """A pipeline directory spaCy cannot load, or one without an entity recogniser."""


def active() -> Language:
    """The active pipeline, or the configured one (logged) if its directory has become unusable."""
    name = active_path()
    try:
        return load(name)
    except CorruptModel as error:
        if name == settings.SPACY_MODEL:
            raise
        log.error("%s Pre-annotating with %s instead.", error, settings.SPACY_MODEL)
        return load(settings.SPACY_MODEL)


def ner_pipes(nlp: Language) -> list[str]:
    """What sets doc.ents, plus the shared embedding layers it listens to."""
    wanted = {name for name in nlp.pipe_names if "doc.ents" in nlp.get_pipe_meta(name).assigns}
    wanted |= {name for name, pipe in nlp.pipeline if wanted & set(getattr(pipe, "listening_components", ()))}
    return [name for name in nlp.pipe_names if name in wanted]


def read(name_or_path: str) -> Language:
    """A fresh copy of a whole pipeline, refused with a clear message if it is unusable."""
    import spacy

    from articles.nlp import kernels

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


# OntoNotes' labels onto the project's; only for a pipeline that uses them (see label_mapping).
LABEL_MAP = {
    "PERSON": "PER",
    "GPE": "LOC",
    "FAC": "LOC",
    "NORP": "MISC",
    "EVENT": "MISC",
    "PRODUCT": "MISC",
    "WORK_OF_ART": "MISC",
    "LAW": "MISC",
    "LANGUAGE": "MISC",
}

# Longer than any word or URL in news: a blob the model would turn into one giant entity.
MAX_WORD_LENGTH = 1000
_LONG_WORD = re.compile(rf"\S{{{MAX_WORD_LENGTH + 1},}}")
# Control characters other than whitespace mean binary or wrongly decoded text.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")


@functools.cache
def load(name_or_path: str) -> Language:
    from articles.nlp import kernels

    nlp = read(name_or_path)
    nlp.select_pipes(enable=ner_pipes(nlp))
    nlp.max_length = MAX_LENGTH
    log.info("Loaded %s; its layers multiply with %s", name_or_path, kernels.ops_in(nlp))
    return nlp


def identity() -> tuple[str, str]:
    """(name, version) of the active pipeline, as spans and history record it."""
    meta = active().meta
    return f"{meta['lang']}_{meta['name']}", meta["version"]


def _model_labels(nlp: Language) -> set[str]:
    return {
        label
        for name in nlp.pipe_names
        if "doc.ents" in nlp.get_pipe_meta(name).assigns
        for label in getattr(nlp.get_pipe(name), "labels", ())
    }


def label_mapping(nlp: Language) -> dict[str, str]:
    return LABEL_MAP if "PERSON" in _model_labels(nlp) else {}


# Cached for the pipelines ``load`` keeps; training's passing copies call ``label_mapping``.
label_map = functools.cache(label_mapping)


def labels() -> set[str]:
    nlp = active()
    mapping = label_map(nlp)
    return {mapping.get(label, label) for label in _model_labels(nlp)}


def unreadable(text: str, limit: int) -> str | None:
    """Why the model cannot process this text, or None if it can."""
    if not text.strip():
        return "the text is empty"
    if len(text) > limit:
        return f"the text has {len(text):,} characters, more than the model's limit of {limit:,}"
    if control := _CONTROL.search(text):
        return (
            f"control character U+{ord(control.group()):04X} at character {control.start()}: "
            "the text looks binary or wrongly decoded"
        )
    if word := _LONG_WORD.search(text):
        return (
            f"a run of {len(word.group()):,} characters without a space at character {word.start()} "
            f"(words are at most {MAX_WORD_LENGTH:,}): not text the model can read"
        )
    return None


def entities(texts: Iterable[str]) -> Iterator[list[ModelSpan]]:
    """The model's entities of each text (spaCy's char offsets are code points, as the project's)."""
    nlp = active()
    mapping = label_map(nlp)
    for doc in nlp.pipe(texts, batch_size=BATCH_SIZE):
        yield [ModelSpan(ent.start_char, ent.end_char, mapping.get(ent.label_, ent.label_)) for ent in doc.ents]
