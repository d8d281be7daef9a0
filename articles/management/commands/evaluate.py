import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from articles.quality.figures import refresh


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


class Command(BaseCommand):
    help = "Compares the model's proposals with the editors' final spans of reviewed articles, and with the seeds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print every figure as JSON")

    def handle(self, *args: object, json: bool = False, **options: object) -> None:
        figures = refresh().figures
        if json:
            self.stdout.write(_json(figures))
            return
        model = figures["model"]
        self.stdout.write(f"Model against editors: {model['articles']} reviewed articles")
        self._scores(model)
        self._corrections(model)
        reference = figures["reference"]
        self.stdout.write(
            f"\nSeed reference: {reference['articles']} articles, their source's highlights "
            "(no labels: span edges only)"
        )
        self._scores(reference, labels=False)
        self._agreement(figures["agreement"])
        self._effort(figures["effort"])

    def _scores(self, figures: dict[str, Any], *, labels: bool = True) -> None:
        rows = [{"label": "overall", **figures["overall"]}] + (figures["labels"] if labels else [])
        self.stdout.write(
            f"  {'label':<10} {'model':>6} {'editor':>6}  {'exact P':>8} {'R':>7} {'F1':>7}  "
            f"{'overlap P':>9} {'R':>7} {'F1':>7}"
        )
        for row in rows:
            exact, overlap = row["exact"], row["overlap"]
            self.stdout.write(
                f"  {row['label']:<10} {row['predicted']:>6} {row['expected']:>6}  "
                f"{pct(exact['p']):>8} {pct(exact['r']):>7} {pct(exact['f']):>7}  "
                f"{pct(overlap['p']):>9} {pct(overlap['r']):>7} {pct(overlap['f']):>7}"
            )

    def _corrections(self, figures: dict[str, Any]) -> None:
        self.stdout.write("\nMost frequent corrections")
        for kind, found in figures["corrections"].items():
            self.stdout.write(f"  {kind.replace('_', ' ')}: {found['total']}")
            for c in found["top"]:
                model = f"{c['model_text']} [{c['model_label']}]" if c["model_text"] is not None else "—"
                editor = f"{c['text']} [{c['label']}]" if c["text"] is not None else "—"
                links = " ".join(f"/articles/{pk}/" for pk in c["articles"])
                self.stdout.write(f"    {c['n']:>5} × model {model} → editor {editor}   {links}")

    def _agreement(self, agreement: dict[str, Any]) -> None:
        self.stdout.write(f"\nAgreement between editors: {agreement['articles']} articles annotated twice")
        if not agreement["articles"]:
            return
        self.stdout.write(f"  {'editors':<24} {'articles':>8} {'exact F1':>9} {'overlap F1':>11} {'kappa':>7}")
        rows = [{"editors": "all pairs", **agreement}, *agreement["pairs"]]
        for row in rows:
            kappa = "—" if row["kappa"] is None else f"{row['kappa']:.3f}"
            self.stdout.write(
                f"  {row['editors']:<24} {row['articles']:>8} {pct(row['overall']['exact']):>9} "
                f"{pct(row['overall']['overlap']):>11} {kappa:>7}"
            )
        for row in agreement["labels"]:
            self.stdout.write(f"    {row['label']:<8} exact F1 {pct(row['exact'])}, overlap F1 {pct(row['overlap'])}")
        for row in agreement["over_time"]:
            kappa = "—" if row["kappa"] is None else f"{row['kappa']:.3f}"
            self.stdout.write(
                f"    {row['day']}: {row['articles']} articles, exact F1 {pct(row['overall']['exact'])}, kappa {kappa}"
            )

    def _effort(self, effort: dict[str, Any]) -> None:
        self.stdout.write("\nEditors' effort")
        for row in effort["editors"]:
            self.stdout.write(
                f"  {row['editor']}: {row['reviewed']} reviewed, {row['articles']} articles touched, "
                f"{row['changes']} changes ({row['created']} created, {row['relabelled']} relabelled, "
                f"{row['resized']} resized, {row['deleted']} deleted, {row['accepted']} accepted), "
                f"{row['seconds'] // 60} min {row['seconds'] % 60} s"
            )
        status = ", ".join(f"{name}: {n}" for name, n in sorted(effort["status"].items()))
        self.stdout.write(f"  articles by status: {status or 'none'}")


def _json(figures: dict[str, Any]) -> str:
    return json.dumps(figures, indent=2, ensure_ascii=False)
