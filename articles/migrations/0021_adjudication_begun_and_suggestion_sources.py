"""Adjudication's start is recorded (it was inferred from the article's spans), each suggestion names
its source's article, and the suggestions task lives in the editing package."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


TASK = ("articles.workspace.propagation.offer_elsewhere", "articles.editing.propagation.offer_elsewhere")


def _rename_task(apps, old: str, new: str) -> None:
    apps.get_model("django_tasks_database", "DBTaskResult").objects.filter(task_path=old).update(task_path=new)


def _begun(apps, schema_editor) -> None:
    """An adjudication with a decision began at its first one: the copy of what both versions agreed
    on carries that decision's version, the first the reviewer may not undo."""
    Article = apps.get_model("articles", "Article")
    Decision = apps.get_model("articles", "Decision")
    SpanEvent = apps.get_model("articles", "SpanEvent")
    for article_id in Decision.objects.values_list("article_id", flat=True).distinct():
        first = Decision.objects.filter(article_id=article_id).order_by("decided_at").first()
        copied = (
            SpanEvent.objects.filter(article_id=article_id, annotation__isnull=True, actor__isnull=False)
            .order_by("id")
            .values_list("article_version", flat=True)
            .first()
        )
        Article.objects.filter(pk=article_id).update(
            adjudication_started_at=first.decided_at,
            adjudication_started_by_id=first.decided_by_id,
            adjudication_version=copied,
        )


class Migration(migrations.Migration):

    dependencies = [
        ('articles', '0020_spans_checked_in_one_pass'),
        ('django_tasks_database', '0021_conditional_partial_index_ordering'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='article',
            name='adjudication_started_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='article',
            name='adjudication_started_by',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='article',
            name='adjudication_version',
            field=models.PositiveIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='suggestion',
            name='source_article',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='articles.article'),
        ),
        migrations.AddIndex(
            model_name='article',
            index=models.Index(condition=models.Q(('adjudication_started_by__isnull', False)), fields=['adjudication_started_by'], name='article_adjudicator'),
        ),
        migrations.AddIndex(
            model_name='suggestion',
            index=models.Index(condition=models.Q(('status', 'pending')), fields=['source_span_id'], name='suggestion_pending_source'),
        ),
        migrations.RunPython(_begun, migrations.RunPython.noop),
        migrations.RunPython(
            lambda apps, schema_editor: _rename_task(apps, *TASK),
            lambda apps, schema_editor: _rename_task(apps, *reversed(TASK)),
        ),
    ]
