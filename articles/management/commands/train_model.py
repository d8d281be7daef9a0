from django.core.management.base import BaseCommand, CommandError, CommandParser

from articles.models import Article
from articles.nlp import pipeline, training
from articles.nlp.preannotation import preannotate


def _pct(value: float) -> str:
    return f"{value:.1%}"


class Command(BaseCommand):
    help = (
        "Fine-tunes the active pipeline's entity recogniser on reviewed articles, scores it beside the "
        "current one on held-out articles, and activates it if it is better (or with --force)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--iterations", type=int, default=20, help="passes over the training articles (20)")
        parser.add_argument("--seed", type=int, default=0, help="seed of the train/held-out split and shuffling")
        parser.add_argument("--force", action="store_true", help="activate the new model even if it is not better")
        parser.add_argument("--min-articles", type=int, help="reviewed articles needed (default TRAIN_MIN_ARTICLES)")
        parser.add_argument(
            "--no-reannotate", action="store_true", help="leave pre-annotated articles as the old model left them"
        )

    def handle(self, *args, iterations: int, seed: int, force: bool, min_articles: int | None, **options) -> None:
        if iterations < 1:
            raise CommandError(f"--iterations must be at least 1; got {iterations}.")
        try:
            outcome = training.train(
                iterations=iterations, seed=seed, force=force, min_articles=min_articles, progress=self.stdout.write
            )
        except (training.TrainingRefused, pipeline.CorruptModel) as error:
            raise CommandError(str(error)) from None
        trained = outcome.model
        self.stdout.write(
            f"Trained {trained} on {trained.train_articles} articles, scored on {trained.dev_articles} held out:"
        )
        self.stdout.write(f"  {'':<8} {'P':>7} {'R':>7} {'F1':>7}")
        for name, s in (("old", outcome.old), ("new", outcome.new)):
            self.stdout.write(f"  {name:<8} {_pct(s['p']):>7} {_pct(s['r']):>7} {_pct(s['f']):>7}")
        for label in sorted(outcome.new["per_label"]):
            old = outcome.old["per_label"].get(label, {}).get("f", 0.0)
            self.stdout.write(f"    {label:<6} F1 {_pct(old)} → {_pct(outcome.new['per_label'][label]['f'])}")
        if not outcome.activated:
            self.stdout.write(f"Not better: {trained.base} stays active (--force activates it anyway).")
            return
        self.stdout.write(f"{trained} is now the active model ({trained.path}).")
        if not options["no_reannotate"]:
            ids = training.pending_for_reannotation()
            spans = preannotate(Article.objects.filter(pk__in=ids)).spans
            self.stdout.write(f"Pre-annotated again {len(ids)} articles not yet opened: {spans} model spans.")
