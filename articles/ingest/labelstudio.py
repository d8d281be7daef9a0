"""Label Studio's tasks: its full JSON export and the task files it imports, `predictions` included.

A task keeps its text in ``data.text`` and its work in ``annotations`` (``completions`` in old
exports) and ``predictions``. Which annotation is read, and what happens to cancelled ones and
predictions: docs/importing.md. JSON-MIN is read as a plain record (``spankeys.raw_spans``).
"""

from django.utils.translation import gettext as _

from articles.ingest.problems import Bad
from articles.ingest.records import ArticleRecord, ReadOptions, Skipped, build_record
from articles.ingest.spankeys import Fields, GivenSpan, RawSpan, settle_offsets, span_list

FIRST = "first"


def _annotator(annotation: Fields) -> str:
    """Who made an annotation, as the export names them: an id, or a user object with an email."""
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        return str(who.get("email") or who.get("id") or "?")
    return "?" if who is None else str(who)


def _by(annotation: Fields, annotator: str) -> bool:
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        return annotator in (str(who.get("id")), who.get("email"))
    return annotator == str(who)


def _list(task: Fields, key: str) -> list[Fields]:
    value = task.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise Bad(_("`%(key)s` must be a list of objects, each with its `result`") % {"key": key})
    return value


def _pick_annotation(annotations: list[Fields], options: ReadOptions) -> Fields | None:
    """The annotation to import: the only one, or the one the run picks; None if there is none."""
    if options.annotation not in ("", FIRST) and annotations:
        chosen = [a for a in annotations if _by(a, options.annotation)]
        if len(chosen) == 1:
            return chosen[0]
        if not chosen:
            raise Bad(
                _("no annotation by %(annotator)s (annotators: %(annotators)s)")
                % {"annotator": options.annotation, "annotators": ", ".join(_annotator(a) for a in annotations)}
            )
        raise Bad(
            _("%(n)s annotations by %(annotator)s; pick the first with `first`")
            % {"n": len(chosen), "annotator": options.annotation}
        )
    if len(annotations) <= 1 or options.annotation == FIRST:
        return annotations[0] if annotations else None
    raise Bad(
        _(
            "%(n)s annotations (by %(annotators)s); pick one to import: `first`, or an annotator's id or "
            "email (--annotation, or Annotation on the upload form)"
        )
        % {"n": len(annotations), "annotators": ", ".join(_annotator(a) for a in annotations)}
    )


def _results(work: Fields, what: str) -> list[RawSpan]:
    """The entity spans of one annotation or prediction; any other kind of result is refused."""
    results = work.get("result")
    if results is None:
        return []
    if not isinstance(results, list):
        raise Bad(_("the %(what)s's `result` must be a list") % {"what": what})
    values = []
    for n, result in enumerate(results, 1):
        kind = result.get("type") if isinstance(result, dict) else None
        value = result.get("value") if isinstance(result, dict) else None
        if kind not in (None, "labels") or not isinstance(value, dict) or "labels" not in value:
            raise Bad(
                _(
                    "the %(what)s's result %(n)s is of type `%(type)s`, which this import does not read "
                    "(it reads `labels`: entity spans)"
                )
                % {"what": what, "n": n, "type": kind}
            )
        values.append(value)
    return span_list(values, "result")


def _apart(predictions: list[GivenSpan], spans: list[GivenSpan]) -> list[GivenSpan]:
    """The predictions that overlap no span: the model never overwrites an annotation."""
    return [(s, e, label) for s, e, label in predictions if not any(s < end and start < e for start, end, _ in spans)]


def task_record(task: Fields, file: str, where: str, options: ReadOptions) -> ArticleRecord | Skipped:
    """One Label Studio task: a record whose `data` is an object."""
    data = task["data"]
    assert isinstance(data, dict)
    text = data.get("text")
    if not isinstance(text, str):
        keys = ", ".join(f"`{key}`" for key in data) or _("none")
        raise Bad(_("a Label Studio task keeps its text in `data.text` (its `data` has %(keys)s)") % {"keys": keys})
    annotations = _list(task, "annotations") + _list(task, "completions")
    kept = [a for a in annotations if not a.get("was_cancelled")]
    if annotations and not kept:
        return Skipped(file, where)
    annotation = _pick_annotation(kept, options)
    predictions = _list(task, "predictions")
    if len(predictions) > 1 and options.annotation != FIRST:
        raise Bad(
            _("%(n)s predictions; pick the first with `first` (--annotation first, or on the upload form)")
            % {"n": len(predictions)}
        )
    raw = _results(annotation, _("annotation")) if annotation else []
    spans, utf16 = settle_offsets(text, raw)
    predicted: list[GivenSpan] = []
    model = ""
    if predictions:
        predicted, predicted_utf16 = settle_offsets(text, _results(predictions[0], _("prediction")))
        utf16 = utf16 or predicted_utf16
        model = str(predictions[0].get("model_version") or "")
    kept_predictions = _apart(predicted, spans)
    return build_record(
        text,
        spans,
        data,
        file,
        where,
        utf16=utf16,
        predictions=kept_predictions,
        prediction_model=model,
        predictions_left_out=len(predicted) - len(kept_predictions),
    )
