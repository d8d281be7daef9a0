"""The editing workspace: the verbs editors use on spans, their views, the page's partials, suggestions."""
