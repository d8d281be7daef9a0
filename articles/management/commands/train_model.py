import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from articles.models import Article, TrainedModel
from articles.nlp import pipeline, training
from articles.nlp.preannotation import preannotate


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def history_lines(models: list[TrainedModel]) -> list[str]:
    """The retrained models, newest first: when, what each learnt from, its held-out F1 (overall and per label)."""
    labels = sorted({label for m in models for label in m.scores["new"]["per_label"]})
    head = f"  {'':1} {'model':<18} {'trained':<16} {'articles':>8} {'spans':>7} {'F1':>6}"
    lines = [head + "".join(f" {label:>6}" for label in labels)]
    for m in models:
        learnt = m.learnt_from or {"articles": m.train_articles, "spans": None}
        per_label = m.scores["new"]["per_label"]
        row = (
            f"  {'*' if m.active else ' '} {str(m):<18} {m.created_at:%Y-%m-%d %H:%M} {learnt['articles']:>8} "
            f"{learnt['spans'] if learnt['spans'] is not None else '—':>7} {_pct(m.scores['new']['f']):>6}"
        )
        lines.append(
            row + "".join(f" {_pct(per_label[label]['f']) if label in per_label else '—':>6}" for label in labels)
        )
    return lines


class Command(BaseCommand):
    help = (
        "Fine-tunes the active pipeline's entity recogniser on reviewed articles, scores it beside the "
        "current one on held-out articles, and activates it if it is better (or with --force)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--iterations",
            type=int,
            default=training.ITERATIONS,
            help=f"at most this many passes over the training articles ({training.ITERATIONS}); training stops "
            f"earlier when {training.PATIENCE} in a row do not improve the held-out score",
        )
        parser.add_argument("--seed", type=int, default=0, help="seed of the train/held-out split and shuffling")
        parser.add_argument("--force", action="store_true", help="activate the new model even if it is not better")
        parser.add_argument("--min-articles", type=int, help="reviewed articles needed (default TRAIN_MIN_ARTICLES)")
        parser.add_argument(
            "--no-reannotate", action="store_true", help="leave pre-annotated articles as the old model left them"
        )

    def handle(
        self,
        *args: object,
        iterations: int,
        seed: int,
        force: bool,
        min_articles: int | None,
        no_reannotate: bool,
        **options: object,
    ) -> None:
        if iterations < 1:
            raise CommandError(f"--iterations must be at least 1; got {iterations}.")
        # A bar with the iteration, its loss and held-out F1 on a terminal; a log gets a line per iteration.
        with tqdm(total=iterations, unit="iteration", file=sys.stderr, disable=not sys.stderr.isatty()) as bar:

            def advance(progress: training.Progress) -> None:
                if progress.phase == "scoring" and progress.f is not None:
                    self.stdout.write(f"{pipeline.active_path()} on the held-out articles: F1 {_pct(progress.f)}")
                if progress.phase != "training" or not progress.curve or bar.n == progress.iteration:
                    return
                bar.update(progress.iteration - bar.n)
                bar.set_postfix(loss=f"{progress.loss:.0f}", f1=_pct(progress.f))
                if bar.disable:
                    line = f"iteration {progress.iteration}/{iterations}: loss {progress.loss:.1f}, held-out F1"
                    self.stdout.write(f"{line} {_pct(progress.f)}")

            try:
                outcome = training.train(
                    iterations=iterations, seed=seed, force=force, min_articles=min_articles, progress=advance
                )
            except (training.TrainingRefused, pipeline.CorruptModel) as error:
                raise CommandError(str(error)) from None
        self._report(outcome)
        if outcome.activated and not no_reannotate:
            ids = training.pending_for_reannotation()
            spans = preannotate(Article.objects.filter(pk__in=ids)).spans
            self.stdout.write(f"Pre-annotated again {len(ids)} articles not yet opened: {spans} model spans.")
        self.stdout.write("Retrained models (* active):")
        for line in history_lines(list(TrainedModel.objects.all()[:10])):
            self.stdout.write(line)

    def _report(self, outcome: training.Outcome) -> None:
        trained = outcome.model
        learnt = trained.learnt_from
        self.stdout.write(
            f"Trained {trained} on {trained.train_articles} articles ({learnt['spans']} spans), scored on "
            f"{trained.dev_articles} held out ({sum(trained.dev_spans.values())} spans); best iteration "
            f"{trained.scores['best_iteration']}:"
        )
        needed = training.MIN_LABEL_SPANS
        for label, n in trained.skipped_labels.items():
            self.stdout.write(f"  Trained without {label}: {n} reviewed spans, fewer than the {needed} a label needs.")
        if outcome.few_held_out_spans:
            self.stdout.write(
                f"  Warning: the held-out articles have only {sum(trained.dev_spans.values())} spans; a score on fewer "
                f"than {training.FEW_HELD_OUT_SPANS} is rough. Review more articles for a steadier one."
            )
        self.stdout.write(f"  {'':<8} {'P':>7} {'R':>7} {'F1':>7}")
        for name, s in (("old", outcome.old), ("new", outcome.new)):
            self.stdout.write(f"  {name:<8} {_pct(s['p']):>7} {_pct(s['r']):>7} {_pct(s['f']):>7}")
        for label in sorted(outcome.new["per_label"]):
            old = outcome.old["per_label"].get(label, {}).get("f", 0.0)
            self.stdout.write(f"    {label:<6} F1 {_pct(old)} → {_pct(outcome.new['per_label'][label]['f'])}")
        if not outcome.activated:
            self.stdout.write(f"Not better: {trained.base} stays active (--force activates it anyway).")
        else:
            self.stdout.write(f"{trained} is now the active model ({trained.path}).")
