"""Who has which article: "next article" leases one to an editor, opening or changing it renews the lease.

A lease keeps an article out of other editors' "next article" for ``LEASE``; anyone may still open
it from the list. Leases are never edits: they change neither the version nor ``updated_at``.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from articles.models import LEASE, Article


def open_for_review(article: Article, user: AbstractBaseUser) -> Article:
    """Opening a pre-annotated article starts its review; the editor takes or renews its lease.

    Two single-row updates, each atomic by itself: neither needs the other to have happened.
    """
    if article.status == Article.Status.PRE_ANNOTATED:
        updated = Article.objects.filter(pk=article.pk, status=Article.Status.PRE_ANNOTATED).update(
            status=Article.Status.IN_REVIEW, updated_at=timezone.now()
        )
        if updated:
            article.refresh_from_db()
    renew_lease(article, user)
    return article


def renew_lease(article: Article, user: AbstractBaseUser) -> bool:
    """Keeps the article out of other editors' "next article" for LEASE from now, unless another
    editor holds it; False then. A lease is not an edit: neither version nor updated_at change."""
    until = timezone.now() + LEASE
    renewed = Article.objects.filter(pk=article.pk).free_for(user).update(leased_by=user, leased_until=until)
    if renewed:
        article.leased_by, article.leased_until = user, until
    return bool(renewed)


def release_lease(article: Article, user: AbstractBaseUser | None = None) -> bool:
    """Gives the article back to the queue: ``user``'s lease on it, or anyone's when None."""
    leases = Article.objects.filter(pk=article.pk, leased_by__isnull=False)
    if user is not None:
        leases = leases.filter(leased_by=user)
    released = leases.update(leased_by=None, leased_until=None)
    if released:
        article.leased_by, article.leased_until = None, None
    return bool(released)


@transaction.atomic
def lease_next(user: AbstractBaseUser, *, after_id: int | None = None) -> Article | None:
    """Leases to ``user`` the next article needing review that no other editor has open: the first
    after ``after_id`` in queue order (oldest first), wrapping around, never ``after_id`` itself
    (the editor is leaving it). None when there is none. The editor gives back any article they
    held: one lease per editor, so an article left for the next one returns to the queue at once.

    The candidate is claimed with SELECT ... FOR UPDATE SKIP LOCKED: two editors asking at the same
    moment lock different rows instead of both reading the same free one (and neither waits for the
    other), so they never get the same article. The lease is written before the lock is released.
    """
    Article.objects.filter(leased_by=user).update(leased_by=None, leased_until=None)
    candidates = (
        Article.objects.needs_review()
        .free_for(user)
        .select_for_update(skip_locked=True, of=("self",), no_key=True)
        .only("pk")
        .order_by("pk")
    )
    if after_id is not None:
        candidates = candidates.exclude(pk=after_id)
        article = candidates.filter(pk__gt=after_id).first() or candidates.first()
    else:
        article = candidates.first()
    if article is not None:
        renew_lease(article, user)
    return article
