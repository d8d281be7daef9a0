"""The rows and their constraints, which PostgreSQL enforces: articles and labels, spans and their history, runs."""

from articles.models.corpus import (
    LEASE,
    SEARCH_CONFIG,
    UNKNOWN_LABEL_COLOR,
    Article,
    ArticleQuerySet,
    ArticleSearch,
    ArticleStatus,
    ImportBatch,
    ImportBatchStatus,
    Label,
    ReferenceSpan,
    contrast,
)
from articles.models.fields import IntRange, content_hash, someone, someone_index
from articles.models.runs import Export, ExportFormat, QualitySnapshot, TrainedModel
from articles.models.spans import (
    Span,
    SpanEvent,
    SpanEventKind,
    SpanOrigin,
    SpanQuerySet,
    Suggestion,
    SuggestionQuerySet,
    SuggestionStatus,
)

__all__ = [
    "LEASE",
    "SEARCH_CONFIG",
    "UNKNOWN_LABEL_COLOR",
    "Article",
    "ArticleQuerySet",
    "ArticleSearch",
    "ArticleStatus",
    "Export",
    "ExportFormat",
    "ImportBatch",
    "ImportBatchStatus",
    "IntRange",
    "Label",
    "QualitySnapshot",
    "ReferenceSpan",
    "Span",
    "SpanEvent",
    "SpanEventKind",
    "SpanOrigin",
    "SpanQuerySet",
    "Suggestion",
    "SuggestionQuerySet",
    "SuggestionStatus",
    "TrainedModel",
    "content_hash",
    "contrast",
    "someone",
    "someone_index",
]
