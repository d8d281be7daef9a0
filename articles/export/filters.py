"""What to export: article filters pick articles, label and origin filters pick spans inside them."""

from collections.abc import Collection
from typing import Any

from django import forms
from django.db.models import Q
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from articles.models import Article, ArticleQuerySet, ImportBatch, Label, Span, SpanQuerySet


def allowed(values: Collection[str]) -> str:
    return ", ".join(values) if values else _("(none)")


class ExportFilters(forms.Form):
    """Every format's filters, from a query string or the command's options; unknown names are refused."""

    status = forms.MultipleChoiceField(choices=Article.Status.choices, required=False, label=gettext_lazy("Status"))
    label = forms.MultipleChoiceField(required=False, label=gettext_lazy("Label"))
    origin = forms.MultipleChoiceField(choices=Span.Origin.choices, required=False, label=gettext_lazy("Origin"))
    batch = forms.ModelChoiceField(ImportBatch.objects.all(), required=False, label=gettext_lazy("Upload batch"))
    reviewed_from = forms.DateField(
        required=False, label=gettext_lazy("Reviewed from"), widget=forms.DateInput({"type": "date"})
    )
    reviewed_to = forms.DateField(
        required=False, label=gettext_lazy("Reviewed until"), widget=forms.DateInput({"type": "date"})
    )

    def __init__(self, data: QueryDict | None = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self._choice_field("label").choices = [(name, name) for name in Label.objects.values_list("name", flat=True)]
        for name in ("status", "label", "origin"):
            field = self._choice_field(name)
            # The field's choices, normalised: setting them gave its widget the same list.
            options = field.widget.choices
            field.widget = forms.CheckboxSelectMultiple(choices=options)
            choices = allowed([value for value, _label in options])
            # The message keeps Django's %(value)s for the form to fill in.
            field.error_messages["invalid_choice"] = _("unknown %(filter)s “%%(value)s”; allowed: %(allowed)s") % {
                "filter": name,
                "allowed": choices.replace("%", "%%"),
            }
        batch = self.fields["batch"]
        assert isinstance(batch, forms.ModelChoiceField)
        batch.error_messages["invalid_choice"] = _("no upload batch with id “%(value)s”")
        batch.empty_label = _("all")
        self.unknown = sorted(set(data or ()) - set(self.fields) - {"excel", "doccano"})

    def _choice_field(self, name: str) -> forms.ChoiceField:
        field = self.fields[name]
        # The form's fields are copies of the class's, typed as plain fields.
        assert isinstance(field, forms.ChoiceField)
        return field

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        for name in self.unknown:
            self.add_error(
                None,
                _("unknown filter “%(name)s”; allowed: %(allowed)s")
                % {"name": name, "allowed": ", ".join(self.fields)},
            )
        start, end = cleaned.get("reviewed_from"), cleaned.get("reviewed_to")
        if start and end and start > end:
            self.add_error(
                "reviewed_to", _("ends (%(end)s) before it starts (%(start)s)") % {"end": end, "start": start}
            )
        return cleaned

    def problems(self) -> str:
        """The errors in one message, each naming its filter: for a 400 or a CommandError."""
        lines = []
        for name, errors in self.errors.items():
            lines += [str(message) if name == "__all__" else f"{name}: {message}" for message in errors]
        return _("Bad export filter. %(problems)s.") % {"problems": "; ".join(lines)}

    def _article_conditions(self, prefix: str = "") -> Q:
        data, q = self.cleaned_data, Q()
        if data["status"]:
            q &= Q(**{f"{prefix}status__in": data["status"]})
        if data["batch"]:
            q &= Q(**{f"{prefix}batch": data["batch"]})
        if data["reviewed_from"]:
            q &= Q(**{f"{prefix}reviewed_at__date__gte": data["reviewed_from"]})
        if data["reviewed_to"]:
            q &= Q(**{f"{prefix}reviewed_at__date__lte": data["reviewed_to"]})
        return q

    def articles(self) -> ArticleQuerySet:
        return Article.objects.filter(self._article_conditions())

    def span_conditions(self) -> Q:
        """The label and origin filters alone, for spans read through their article."""
        data, q = self.cleaned_data, Q()
        if data["label"]:
            q &= Q(label__name__in=data["label"])
        if data["origin"]:
            q &= Q(origin__in=data["origin"])
        return q

    def spans(self) -> SpanQuerySet[Span]:
        # Article conditions on the join, not as `article__in`: a slice of article ids then reaches
        # the span index directly.
        return Span.objects.filter(self._article_conditions("article__"), self.span_conditions())

    def query_string(self) -> str:
        query = QueryDict(mutable=True)
        for name, value in self.data.lists() if isinstance(self.data, QueryDict) else self.data.items():
            if name in self.fields:
                query.setlist(name, [v for v in (value if isinstance(value, list) else [value]) if v])
        return query.urlencode()


def counts(filters: ExportFilters) -> tuple[int, int]:
    """How many articles and spans the filters export."""
    return filters.articles().count(), filters.spans().count()
