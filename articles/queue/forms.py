"""Forms that read requests: what the queue's filters accept, and nothing else."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from articles.models import Article, ImportBatch, Label

# Each backed by an index on (field, id) for seek pagination; anything else is refused with 400.
ORDERINGS = [
    ("id", _("Oldest first")),
    ("-id", _("Newest first")),
    ("-updated_at", _("Recently changed")),
    ("updated_at", _("Least recently changed")),
    ("title", _("Title A–Z")),
    ("-title", _("Title Z–A")),
]
DEFAULT_ORDERING = "id"


class QueueFilters(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.SearchInput(attrs={"placeholder": _("Search titles and text")}),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *Article.Status.choices]
    )
    label = forms.ModelChoiceField(
        Label.objects.all(), label=_("Label"), required=False, to_field_name="name", empty_label=_("Any label")
    )
    batch = forms.ModelChoiceField(
        ImportBatch.objects.all(), label=_("Batch"), required=False, empty_label=_("Any batch")
    )
    ordering = forms.ChoiceField(label=_("Sort"), required=False, choices=ORDERINGS)
    # Set by the pager's links, not by the form: a new filter starts from the first page.
    after = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)
    before = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("after") and data.get("before"):
            raise forms.ValidationError(_("Give either “after” or “before”, not both."))
        return data
