"""CoNLL and IOB files: one token a line with its tag in the last column, blank lines between
sentences, ``-DOCSTART-`` lines (or else datelines) between articles.

Schemes, how tokens are joined and how stories are found: docs/importing.md, "CoNLL and IOB files".
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from articles.ingest.problems import Bad, Problem
from articles.ingest.records import ArticleRecord, build_record
from articles.nlp.pipeline import MAX_LENGTH

DOCSTART = "-DOCSTART-"
# A tag: O, or a prefix and a label of one word of at most 32 characters.
TAG = re.compile(r"O|([BIES])-(\S{1,32})")
# No space before these tokens, none after those; straight quotes open and close in turn.
NO_SPACE_BEFORE = frozenset(", . ; : ! ? ) ] } % » ” ’ … ... '' -RRB- -RCB-".split())
NO_SPACE_AFTER = frozenset("( [ { ¿ ¡ « “ ‘ `` -LRB- -LCB-".split())
STRAIGHT_QUOTES = frozenset(['"', "'"])
DATELINE_MARK = "-"


def is_tagged_text(first_lines: list[str]) -> bool:
    """Whether a file is CoNLL by its first two non-blank lines: a ``-DOCSTART-`` line, or two
    ``token ... tag`` lines with the same number of columns (two lines of prose ending in something
    like a tag rarely have as many words)."""
    lines = [line.split() for line in first_lines if line.strip()][:2]
    if lines and lines[0][0] == DOCSTART:
        return True
    return (
        len(lines) == 2 and len(lines[0]) == len(lines[1]) >= 2 and all(TAG.fullmatch(columns[-1]) for columns in lines)
    )


@dataclass
class _Article:
    first_line: int
    parts: list[str] = field(default_factory=list)
    length: int = 0
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    glue: bool = True  # no space before the next token (start of text, after "(")
    quote_open: bool = False
    # Kept with the article, so that its export gives back the file's own tokens and sentences.
    tokens: list[tuple[int, int]] = field(default_factory=list)
    sentence_starts: list[int] = field(default_factory=list)
    # Sentence-opening I- tokens that went on with the sentence before's entity: two spans here (as
    # CoNLL's scorer reads it), I- again in the export.
    continued: list[int] = field(default_factory=list)
    # A story begins only at a dateline after a sentence that is not a heading.
    has_body: bool = False


class _BadLine(Bad):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line


@dataclass
class _Entity:
    start: int
    label: str
    line: int
    end: int = 0


class _Reader:
    """Reads one file's lines into articles; at a bad line, a Problem naming it ends the file."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.scheme = ""  # "IOB1", "IOB2" or "BIOES", from the file's first entity
        self.ended_without_e = 0  # line of an entity that ended without E- (cannot be BIOES then)
        self.docstart = False  # the file separates its articles by -DOCSTART- lines
        self.article: _Article | None = None
        self.sentence: list[tuple[int, str, str]] = []  # (line, token, tag)
        self.carried = ""  # the label of the entity the last sentence ended in, if any
        self.previous: list[tuple[int, str, str]] = []  # the sentence before, kept for a dateline

    def lines(self, lines: Iterable[str]) -> Iterator[ArticleRecord | Problem]:
        try:
            yield from self._read(lines)
        except _BadLine as bad:
            yield Problem(self.name, _("line %(n)s") % {"n": bad.line}, str(bad))

    def _read(self, lines: Iterable[str]) -> Iterator[ArticleRecord | Problem]:
        for number, line in enumerate(lines, 1):
            columns = line.split()
            if not columns:
                yield from self._end_sentence()
                continue
            if columns[0] == DOCSTART:
                if self.article is None and not self.sentence and not self.previous:
                    self.docstart = True
                yield from self._end_sentence()
                self._flush_previous()
                yield from self._end_article()
                continue
            if len(columns) == 1:
                if line[:1].isspace():
                    raise _BadLine(number, _("an empty token: the line holds only %(tag)r") % {"tag": columns[0]})
                raise _BadLine(
                    number,
                    _("one column, %(column)r: a token and its tag need two, apart by spaces or tabs")
                    % {"column": columns[0]},
                )
            tag = columns[-1]
            if TAG.fullmatch(tag) is None:
                raise _BadLine(
                    number, _("%(tag)r is not a tag (O, or B-, I-, E-, S- and a label of one word)") % {"tag": tag}
                )
            self.sentence.append((number, columns[0], tag))
        yield from self._end_sentence()
        self._flush_previous()
        yield from self._end_article()

    def _end_sentence(self) -> Iterator[ArticleRecord | Problem]:
        sentence, self.sentence = self.sentence, []
        if not sentence:
            return
        if not self.docstart and [token for _, token, _ in sentence] == [DATELINE_MARK] and self.previous:
            # The sentence before was a dateline or a heading: a new story begins with it, unless the
            # story so far is only headings (``(EMPRENDEDORES). - Mérida. - ...``), which stay with it.
            dateline, self.previous = self.previous, []
            if self.article is not None and self.article.has_body:
                yield from self._end_article()
            self._add(dateline)
            self._add(sentence)
            return
        self._flush_previous()
        # Kept back one sentence: it may be the dateline of the next story.
        self.previous = sentence

    def _flush_previous(self) -> None:
        if self.previous:
            previous, self.previous = self.previous, []
            self._add(previous)
            assert self.article is not None
            self.article.has_body = True

    def _add(self, sentence: list[tuple[int, str, str]]) -> None:
        """Appends a sentence's tokens to the article, its entities as spans over their characters."""
        if self.article is None:
            self.article = _Article(first_line=sentence[0][0])
        article = self.article
        article.sentence_starts.append(len(article.tokens))
        entity: _Entity | None = None
        carried, self.carried = self.carried, ""
        for number, token, tag in sentence:
            prefix, label = (tag[0], tag[2:]) if tag != "O" else ("O", "")
            if prefix == "I" and label == carried:
                # A sentence ends every entity; one the sentence before left open may go on here (as
                # CoNLL's own scorer reads it), and then it is an entity of its own.
                prefix = "B"
                article.continued.append(len(article.tokens))
            carried = ""
            entity = self._before(article, entity, number, prefix, label)
            start = self._append(article, token)
            if entity is None and prefix != "O":
                entity = _Entity(start, label, number)
            if entity is not None:
                entity.end = article.length
                if prefix in ("E", "S"):
                    article.spans.append((entity.start, entity.end, entity.label))
                    entity = None
        if entity is not None:
            self._close(article, entity, sentence[-1][0])
            self.carried = entity.label
        if article.length > MAX_LENGTH:
            raise _BadLine(
                sentence[-1][0],
                _("the article begun at line %(first)s is longer than the model's limit of %(limit)s characters")
                % {"first": article.first_line, "limit": f"{MAX_LENGTH:,}"},
            )

    def _before(
        self, article: _Article, entity: "_Entity | None", number: int, prefix: str, label: str
    ) -> "_Entity | None":
        """The open entity once this tag is read: kept if the tag continues it, else closed (None);
        a tag the file's scheme does not allow here raises Bad."""
        if prefix != "O" and not self.scheme:
            self.scheme = {"I": "IOB1", "B": "IOB2"}.get(prefix, "BIOES")
        if prefix in ("E", "S") and self.scheme != "BIOES":
            if self.scheme == "IOB1" or self.ended_without_e:
                raise _BadLine(
                    number,
                    _("%(tag)s in a file whose tags are %(scheme)s (mixed tag schemes)")
                    % {"tag": f"{prefix}-{label}", "scheme": self.scheme},
                )
            self.scheme = "BIOES"
        if entity is not None and prefix in ("I", "E") and label == entity.label:
            return entity
        if entity is not None:
            self._close(article, entity, number)
        if prefix == "I" and self.scheme != "IOB1" or prefix == "E":
            raise _BadLine(
                number,
                _("%(tag)s without a B-%(label)s before it (%(scheme)s)")
                % {"tag": f"{prefix}-{label}", "label": label, "scheme": self.scheme},
            )
        return None

    def _close(self, article: _Article, entity: "_Entity", number: int) -> None:
        """Ends an entity that no E- or S- tag ended (an O, another entity, the end of its sentence)."""
        if self.scheme == "BIOES":
            raise _BadLine(
                number,
                _("the %(label)s entity begun at line %(line)s ends without E-%(label)s")
                % {"label": entity.label, "line": entity.line},
            )
        self.ended_without_e = self.ended_without_e or entity.line
        article.spans.append((entity.start, entity.end, entity.label))

    def _append(self, article: _Article, token: str) -> int:
        """Adds a token to the text with the space readers expect before it; returns where it starts."""
        quote = token in STRAIGHT_QUOTES
        closing = quote and article.quote_open
        space = not (article.glue or token in NO_SPACE_BEFORE or closing)
        if space:
            article.parts.append(" ")
            article.length += 1
        start = article.length
        article.parts.append(token)
        article.length += len(token)
        article.tokens.append((start, article.length))
        if quote:
            article.quote_open = not closing
        article.glue = token in NO_SPACE_AFTER or (quote and not closing)
        return start

    def _end_article(self) -> Iterator[ArticleRecord | Problem]:
        article, self.article = self.article, None
        if article is None:
            return
        where = _("line %(n)s") % {"n": article.first_line}
        try:
            yield build_record(
                "".join(article.parts),
                article.spans,
                {},
                self.name,
                where,
                tokens=article.tokens,
                sentence_starts=article.sentence_starts,
                continued=article.continued,
            )
        except Bad as bad:
            yield Problem(self.name, where, str(bad))


def read_conll(lines: Iterable[str], name: str) -> Iterator[ArticleRecord | Problem]:
    """The articles of a CoNLL/IOB file, given its lines."""
    return _Reader(name).lines(lines)
