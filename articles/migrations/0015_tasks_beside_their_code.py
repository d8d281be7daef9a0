"""Each background task now lives beside the code it runs (it was in articles/tasks.py): the task rows
already queued, running or kept as results name the new paths, so workers find them."""

from django.db import migrations

MOVED = {
    "articles.tasks.preannotate_articles": "articles.nlp.preannotation.preannotate_articles",
    "articles.tasks.train_model": "articles.nlp.training.train_model",
    "articles.tasks.check_upload": "articles.ingest.uploads.check_upload",
    "articles.tasks.import_upload": "articles.ingest.uploads.import_upload",
    "articles.tasks.refresh_quality": "articles.quality.figures.refresh_quality",
    "articles.tasks.offer_elsewhere": "articles.workspace.propagation.offer_elsewhere",
}


def _rename(apps, moves: dict[str, str]) -> None:
    DBTaskResult = apps.get_model("django_tasks_database", "DBTaskResult")
    for old, new in moves.items():
        DBTaskResult.objects.filter(task_path=old).update(task_path=new)


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0014_preannotation_error_empty_by_default"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [
        migrations.RunPython(
            lambda apps, schema_editor: _rename(apps, MOVED),
            lambda apps, schema_editor: _rename(apps, {new: old for old, new in MOVED.items()}),
        ),
    ]
