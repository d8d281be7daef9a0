from django.core.management.base import BaseCommand, CommandError, CommandParser

from articles.models import TrainedModel
from articles.nlp import pipeline, training


class Command(BaseCommand):
    help = "Makes a retrained model (by version) the one pre-annotation uses; `base` goes back to SPACY_MODEL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("version", help="a version listed by --list, or `base`")
        parser.add_argument("--list", action="store_true", dest="show", help="list the retrained models first")

    def handle(self, *args, version: str, show: bool, **options) -> None:
        if show:
            for m in TrainedModel.objects.all():
                flag = "*" if m.active else " "
                self.stdout.write(f"{flag} {m.version:>4}  {m}  F1 {m.scores['new']['f']:.3f}  {m.path}")
        active = pipeline.active_path()
        if version == "base":
            training.activate(None)
            self.stdout.write(f"Pre-annotation uses {pipeline.active_path()} again.")
            return
        trained = TrainedModel.objects.filter(version=int(version) if version.isdigit() else -1).first()
        if trained is None:
            raise CommandError(f"No retrained model with version {version!r} (see --list).")
        try:
            training.activate(trained)
        except pipeline.CorruptModel as error:
            raise CommandError(f"{error} The active model stays {active}.") from None
        self.stdout.write(f"Pre-annotation now uses {trained} ({trained.path}).")
