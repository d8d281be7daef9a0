"""A chunk's spans in columns, checked all at once with numpy; a record they refuse is worded by its own check."""

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from articles.ingest.problems import Bad
from articles.ingest.records import ArticleRecord, _checked_spans, _label


@dataclass
class SpanColumns:
    """The spans of a chunk of records in columns, by record then start; a row's label is its index
    in ``labels``.

    ``problems``, by record index, is worded by the one-record check (``_checked_spans``), so a
    message is the same whichever check found it.
    """

    size: int
    record: np.ndarray
    start: np.ndarray
    end: np.ndarray
    label: np.ndarray
    labels: list[str]
    problems: dict[int, str]
    # Each label as given, by its index in ``labels``.
    codes: dict[object, int]

    @classmethod
    def of(cls, records: Sequence[ArticleRecord]) -> "SpanColumns":
        try:
            return cls._of(records)
        except (OverflowError, TypeError, ValueError):
            # An offset no array holds (past 64 bits), a label no set holds: such records are found
            # by their own check, the others are checked together.
            problems = {i: reason for i, r in enumerate(records) if (reason := _refusal(r)) is not None}
            good = [i for i in range(len(records)) if i not in problems]
            columns = cls._of([records[i] for i in good])
            columns.problems = {good[i]: reason for i, reason in columns.problems.items()} | problems
            columns.record, columns.size = np.asarray(good, np.int64)[columns.record], len(records)
            return columns

    @classmethod
    def _of(cls, records: Sequence[ArticleRecord]) -> "SpanColumns":
        flat = list(itertools.chain.from_iterable(r.spans for r in records))
        starts, ends, given = zip(*flat, strict=True) if flat else ((), (), ())
        start, end, distinct = np.array(starts, np.int64), np.array(ends, np.int64), set(given)
        record = np.repeat(np.arange(len(records)), [len(r.spans) for r in records])
        lengths = np.array([len(r.text) for r in records], np.int64)
        bad = set(record[(start < 0) | (start >= end) | (end > lengths[record])].tolist())
        names = {}
        for label in distinct:
            try:
                names[label] = _label(label, 0, 0)
            except Bad:
                bad.update(i for i, r in enumerate(records) if any(g == label for _, _, g in r.spans))
        labels = sorted(set(names.values()))
        index = {name: i for i, name in enumerate(labels)}
        codes = {label: index[name] for label, name in names.items()}
        order = np.lexsort((start, record))
        record, start, end = record[order], start[order], end[order]
        label = np.array([codes.get(g, -1) for g in given], np.int64)[order]
        bad.update(record[np.flatnonzero((record[1:] == record[:-1]) & (start[1:] < end[:-1]))].tolist())
        refusals = {i: _refusal(records[i]) for i in sorted(bad)}
        problems = {i: reason for i, reason in refusals.items() if reason is not None}
        assert len(problems) == len(refusals), "spans refused in a chunk are refused on their own too"
        return cls(len(records), record, start, end, label, labels, problems, codes)

    def labels_of(self, record: ArticleRecord) -> set[str]:
        """The label names of a good record of the chunk."""
        return {self.labels[self.codes[label]] for _, _, label in record.spans}

    def take(self, indexes: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The spans of these good records (``indexes`` in the chunk's order), as columns: the
        record's position in ``indexes``, start, end and label (its index in ``labels``)."""
        position = np.full(self.size, -1, np.int64)
        position[np.asarray(indexes, np.int64)] = np.arange(len(indexes))
        rows = np.flatnonzero(position[self.record] >= 0)
        return position[self.record[rows]], self.start[rows], self.end[rows], self.label[rows]


def _refusal(record: ArticleRecord) -> str | None:
    """Why a record's spans are refused, in the words of its own check; None if they are not."""
    try:
        _checked_spans(record.text, record.spans)
    except Bad as bad:
        return str(bad)
    return None
