"""Who has which article: "next article" leases one to an editor, changing it renews the lease."""

from django.contrib import messages
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from articles.models import Annotation, Article
from articles.site.http import AuthenticatedHttpRequest


@transaction.atomic
def lease_next(user: User, *, after_id: int | None = None) -> Article | None:
    """Leases to ``user`` the next free article needing review after ``after_id``, wrapping around;
    one lease per editor.

    SKIP LOCKED: two editors asking at once lock different rows, so they never get the same article;
    the lease is written before the lock goes.
    """
    Article.objects.filter(leased_by=user).update(leased_by=None, leased_until=None)
    free = Q(leased_until__isnull=True) | Q(leased_until__lte=timezone.now()) | Q(leased_by=user)
    # Annotated twice: the editor's own version unfinished, or a slot free (two editors, each once).
    mine = Annotation.objects.filter(article=OuterRef("pk"), editor=user)
    taken = Annotation.objects.filter(article=OuterRef("pk")).order_by().values("article").annotate(n=Count("pk"))
    open_to_me = Exists(mine.filter(finished_at__isnull=True)) | (
        ~Exists(mine) & (Q(taken__isnull=True) | Q(taken__lt=2))
    )
    candidates = (
        Article.objects.needs_review()
        .alias(taken=Subquery(taken.values("n")))
        .filter((Q(double=False) & free) | (Q(double=True) & open_to_me))
        .select_for_update(skip_locked=True, of=("self",), no_key=True)
        .only("pk", "double")
        .order_by("pk")
    )
    if after_id is not None:
        candidates = candidates.exclude(pk=after_id)
        article = candidates.filter(pk__gt=after_id).first() or candidates.first()
    else:
        article = candidates.first()
    if article is not None and article.double:
        Annotation.objects.claim(article, user)
    elif article is not None:
        article.renew_lease(user)
    return article


def next_url(request: AuthenticatedHttpRequest, *, after_id: int | None = None) -> str:
    """Where to go next: the article ``lease_next`` gives, or the list with a message."""
    article = lease_next(request.user, after_id=after_id)
    if article is None:
        messages.info(
            request, _("All caught up: no other article needs review right now, or other editors have them open.")
        )
        return reverse("articles:list")
    return reverse("articles:detail", args=[article.pk])
