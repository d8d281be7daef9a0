from django.conf import settings
from django.core.management.base import BaseCommand

from articles.ingest.indexing import build_pending
from articles.ingest.records import ArticleRecord, normalise
from articles.ingest.seeds import read_highlighted
from articles.ingest.writer import import_records

SEEDS_DIR = settings.BASE_DIR / "seeds"


class Command(BaseCommand):
    help = "Imports the sample articles in seeds/, with their source's highlighted phrases as reference spans."

    def handle(self, *args: object, **options: object) -> None:
        records = []
        for path in sorted(SEEDS_DIR.glob("*.txt")):
            text, highlights = read_highlighted(normalise(path.read_text(encoding="utf-8")))
            records.append(
                ArticleRecord(
                    text=text,
                    where=path.name,
                    source=f"seeds/{path.name}",
                    reference_spans=highlights,
                    reference_source="source page links",
                )
            )
        result = import_records(records)
        # A few articles: their search rows at once, without waiting for a worker.
        build_pending()
        self.stdout.write(f"Seeds: {result.summary()}")
