from typing import Any

from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from articles.nlp.preannotation import requeue_abandoned


class Command(DatabaseWorkerCommand):
    help = "The background worker (django-tasks-db's), which first requeues the tasks of workers that died."

    # The worker's own options, passed on as they came: each of its own type.
    def handle(self, *args: object, **options: Any) -> None:
        if requeued := requeue_abandoned():
            self.stdout.write(f"Requeued {requeued} pre-annotation tasks whose worker died.")
        super().handle(*args, **options)
