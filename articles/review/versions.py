"""The double-annotation sample: a hash of each article's id below the share picks it, so raising
the share only adds to the sample. Only articles no editor has started move in or out.
"""

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, Func, IntegerField, OuterRef, Q, TextField
from django.db.models.functions import Abs, Cast, Mod

from articles.models import Annotation, Article, ArticleQuerySet, ImportBatch, ReviewPolicy


def _untouched(articles: ArticleQuerySet) -> ArticleQuerySet:
    """Articles no editor has started: no version yet, no change by an editor, not reviewed."""
    started = Annotation.objects.filter(article=OuterRef("pk"))
    return articles.filter(status__in=[Article.Status.NEW, Article.Status.PRE_ANNOTATED]).exclude(Exists(started))


def _sampled(articles: ArticleQuerySet, share: int) -> ArticleQuerySet:
    """The articles a share picks, by a hash of their id (PostgreSQL's own, the same everywhere)."""
    hashed = Func(Cast("id", TextField()), function="hashtext", output_field=IntegerField())
    return articles.alias(bucket=Mod(Abs(hashed), 100)).filter(bucket__lt=share)


def sample(article_ids: list[int], batch: ImportBatch | None) -> int:
    """Articles just imported join the sample as their share says; returns how many did."""
    share = batch.double_share if batch is not None and batch.double_share is not None else None
    if share is None:
        share = ReviewPolicy.current().double_share
    if not share or not article_ids:
        return 0
    articles = Article.objects.filter(batch=batch) if batch is not None else Article.objects.filter(pk__in=article_ids)
    return _sampled(articles, share).update(double=True)


@transaction.atomic
def set_share(share: int, *, batch: ImportBatch | None = None, user: User | None = None) -> int:
    """Sets the share (0–100 %) for a batch, or for the corpus (``batch`` None); returns how many
    articles not started yet are in the sample now."""
    if not 0 <= share <= 100:
        raise ValueError(f"A share is a percentage from 0 to 100; got {share}.")
    if batch is not None:
        batch.double_share = share
        batch.save(update_fields=["double_share"])
        articles = Article.objects.filter(batch=batch)
    else:
        policy = ReviewPolicy.current()
        policy.double_share, policy.updated_by = share, user
        policy.save()
        articles = Article.objects.filter(Q(batch__isnull=True) | Q(batch__double_share__isnull=True))
    articles = _untouched(articles)
    articles.update(double=False)
    return _sampled(articles, share).update(double=True)
