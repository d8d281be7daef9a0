from django.core.management.base import BaseCommand, CommandError, CommandParser

from articles.management.commands.train_model import history_lines
from articles.models import TrainedModel
from articles.nlp import pipeline, training


class Command(BaseCommand):
    help = (
        "Makes a retrained model (by version) the one pre-annotation uses; `base` goes back to SPACY_MODEL; "
        "--list lists them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("version", nargs="?", help="a version listed by --list, or `base`")
        parser.add_argument("--list", action="store_true", dest="show", help="list the retrained models")

    def handle(self, *args: object, version: str | None, show: bool, **options: object) -> None:
        if show:
            models = list(TrainedModel.objects.all())
            self.stdout.write(f"Pre-annotation uses {pipeline.active_path()}.")
            if not models:
                self.stdout.write("No retrained model yet (train_model makes one).")
            for line in history_lines(models) if models else []:
                self.stdout.write(line)
        if version is None:
            if not show:
                raise CommandError("Give a version to activate (see --list), or `base`.")
            return
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
