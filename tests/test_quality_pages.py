"""The quality page, the retraining button and the suggestion endpoints, through Django's test client."""

import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from articles.editing import verbs
from articles.models import QualitySnapshot, Suggestion, TrainingRun
from articles.quality import figures as quality
from tests.test_quality import reviewed_article

pytestmark = pytest.mark.django_db


def test_only_admins_see_the_quality_page(anonymous, as_outsider, as_editor, as_admin):
    assert anonymous.get("/quality/").url.startswith("/accounts/login/?next=/quality/")
    assert as_outsider.get("/quality/").status_code == 403
    assert as_editor.get("/quality/").status_code == 403
    assert as_admin.get("/quality/").status_code == 200
    assert as_admin.post("/quality/").status_code in (403, 405)


def test_the_admin_role_has_the_new_permissions_and_editors_do_not():
    admin_role, editor_role = Group.objects.get(name="admin"), Group.objects.get(name="editor")
    assert set(admin_role.permissions.values_list("codename", flat=True)) >= {"view_quality", "train_model"}
    assert not editor_role.permissions.filter(codename__in=["view_quality", "train_model"]).exists()


def test_the_page_shows_scores_corrections_with_links_reference_and_effort(as_admin, make_article, editor):
    article = reviewed_article(make_article, editor)
    html = as_admin.get("/quality/").content.decode()
    overall = re.search(r'<tr data-label="overall">(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r'<td class="num">([^<]+)</td>', overall) == [
        "5", "5", "40.0%", "40.0%", "40.0%", "60.0%", "60.0%", "60.0%",
    ]  # fmt: skip
    missed = re.search(r'data-correction="missed">(.*?)</section>', html, re.S).group(1)
    assert "<q>Bruselas</q>" in missed and f'href="/articles/{article.pk}/"' in missed
    wrong_label = r'data-correction="wrong_label">.*?<q>OTAN</q> <span class="tag">LOC</span>\s*→ <q>OTAN</q>'
    assert re.search(wrong_label, html, re.S)
    assert "only span edges are compared" in html
    # Server-side SVG charts: per-label bars and the per-version line, with no inline style.
    assert html.count("<svg ") == 4 and "test_model 1.0" in html
    # Each with a title on the page, not only in the SVG's tooltip.
    assert html.count("<figcaption>") == 4 and "<figcaption>Exact match per label</figcaption>" in html
    assert "style=" not in html
    editor_row = re.search(r'<tr data-editor="eddie">(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r'<td class="num">([^<]+)</td>', editor_row)[:7] == ["1", "1", "1", "1", "1", "1", "0"]
    assert re.search(r'data-status="reviewed">.*?<span class="num">1</span>', html)


def test_the_page_serves_cached_figures_and_refreshes_them_in_the_background(
    as_admin, make_article, editor, django_assert_num_queries
):
    reviewed_article(make_article, editor)
    as_admin.get("/quality/")  # first visit: computed once
    # session, user (an admin is a superuser: no permission query), snapshot, fingerprint: nothing computed;
    # the retrained models and the last training, read on every visit so that a training shows at once
    with django_assert_num_queries(7):  # the request's database bounds first
        as_admin.get("/quality/")
    assert not DBTaskResult.objects.exists()

    make_article("Otra noticia de Bruselas.", spans=[(17, 25, "LOC")])  # history changed: stale
    html = as_admin.get("/quality/").content.decode()
    assert "being computed in the background" in html
    assert DBTaskResult.objects.filter(task_path="articles.quality.figures.refresh_quality").count() == 1
    as_admin.get("/quality/")  # a second visit does not queue another refresh
    assert DBTaskResult.objects.count() == 1

    quality.refresh_quality.call()
    snapshot = quality.cached()
    assert snapshot.refresh_requested_at is None and snapshot.fingerprint == quality.fingerprint()


def test_old_figures_are_refreshed_even_without_changes(as_admin, make_article, editor):
    reviewed_article(make_article, editor)
    quality.refresh()
    QualitySnapshot.objects.update(computed_at=timezone.now() - quality.MAX_AGE - timedelta(seconds=1))
    as_admin.get("/quality/")
    assert DBTaskResult.objects.filter(task_path="articles.quality.figures.refresh_quality").count() == 1


def test_the_retrain_button_queues_training_or_says_how_many_articles_are_missing(
    as_admin, as_editor, make_article, editor, settings
):
    reviewed_article(make_article, editor)
    page = as_admin.get("/quality/").content.decode()
    assert 'data-action="train-model"' in page
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = as_admin.post("/quality/train", {"csrfmiddlewaretoken": token}, follow=True)
    assert "Retraining needs at least 20 reviewed articles; there are 1: review 19 more." in response.content.decode()
    assert not DBTaskResult.objects.exists()

    # Whatever TRAIN_MIN_ARTICLES says, a fifth held out must make at least two articles.
    settings.TRAIN_MIN_ARTICLES = 1
    response = as_admin.post("/quality/train", {"csrfmiddlewaretoken": token}, follow=True)
    assert "Retraining needs at least 8 reviewed articles; there are 1: review 7 more." in response.content.decode()
    for i in range(7):
        reviewed_article(make_article, editor, title=f"Cumbre {i}")
    response = as_admin.post("/quality/train", {"csrfmiddlewaretoken": token}, follow=True)
    assert "Retraining on 8 reviewed articles is queued" in response.content.decode()
    queued = DBTaskResult.objects.get(task_path="articles.nlp.training.train_model")
    assert queued.args_kwargs["kwargs"]["run_id"] == TrainingRun.objects.get(status="queued").pk
    assert as_editor.post("/quality/train").status_code == 403
    assert as_admin.get("/quality/train").status_code == 405


def suggestion_for(make_article, editor) -> Suggestion:
    source = make_article("Habló Aurora Rivas.")
    make_article("Aurora Rivas llegó.")
    verbs.create_span(source, 6, 18, "PER", editor)
    return Suggestion.objects.get()


def test_accepting_a_suggestion_over_htmx_returns_the_remaining_ones_and_tells_the_workspace(
    as_editor, make_article, editor
):
    suggestion = suggestion_for(make_article, editor)
    version = suggestion.article.version
    response = as_editor.post(
        f"/suggestions/{suggestion.pk}/accept",
        {"version": version},
        HTTP_HX_REQUEST="true",
        HTTP_X_CSRFTOKEN=_csrf(as_editor),
    )
    assert response.status_code == 200
    span = suggestion.article.spans.get()
    assert span.origin == "editor"
    # The workspace's answer: the regions the new span changed, the suggestions left, out of band.
    answer = json.loads(response.headers["HX-Trigger-After-Swap"])["workspace-answer"]
    assert answer["saved"] and answer["select"] == span.pk
    html = response.content.decode()
    assert 'id="suggestions" class="suggestions" aria-label="Suggestions" hx-swap-oob="true"' in html
    assert "data-suggestion-id" not in html and f'data-span-id="{span.pk}"' in html


def test_the_suggestions_fragment_lists_pending_ones_with_their_hooks(as_editor, make_article, editor):
    suggestion = suggestion_for(make_article, editor)
    other = make_article("Aurora Rivas otra vez.")
    verbs.create_span(other, 0, 12, "PER", editor)  # offers it in the first target too (already there)
    response = as_editor.post(
        f"/suggestions/{suggestion.pk}/dismiss", HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=_csrf(as_editor)
    )
    html = response.content.decode()
    assert "data-suggestion-id" not in html
    Suggestion.objects.create(article=suggestion.article, start=13, end=18, label=suggestion.label, source_span_id=0)
    html = as_editor.post(
        f"/suggestions/{suggestion.pk}/dismiss", HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=_csrf(as_editor)
    ).content.decode()
    assert 'role="alert">That suggestion was already accepted or dismissed.' in html
    assert re.search(r'data-suggestion-id="\d+" data-start="13" data-end="18" data-label="PER"', html)
    assert 'data-action="accept-suggestion"' in html and 'data-action="dismiss-suggestion"' in html


def test_without_htmx_a_decision_goes_back_to_the_article(as_editor, make_article, editor):
    suggestion = suggestion_for(make_article, editor)
    response = as_editor.post(f"/suggestions/{suggestion.pk}/dismiss", HTTP_X_CSRFTOKEN=_csrf(as_editor))
    assert response.status_code == 302 and response.url == f"/articles/{suggestion.article_id}/"


def test_suggestion_endpoints_need_an_editor_and_post(as_outsider, as_editor, anonymous, make_article, editor):
    suggestion = suggestion_for(make_article, editor)
    url = f"/suggestions/{suggestion.pk}/accept"
    assert as_outsider.post(url).status_code == 403
    assert anonymous.get(url).status_code == 302
    assert as_editor.get(url).status_code == 405
    assert as_editor.post("/suggestions/999999/accept", HTTP_X_CSRFTOKEN=_csrf(as_editor)).status_code == 404
    assert Suggestion.objects.get().status == "pending"


def _csrf(client) -> str:
    client.get("/articles/")
    return client.cookies["csrftoken"].value
