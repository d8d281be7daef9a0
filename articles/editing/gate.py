"""Where a change of spans lands and whether this user may make it now.

Every route asks ``where`` first, and every verb asks ``check`` once it holds the lock, so a state
that changed meanwhile (a version finished, an adjudication begun) is seen. The rules, by article:

- an ordinary article: anyone who corrects articles changes its spans, reviewed or not;
- an article annotated twice: each of its two editors changes only their own version, until they
  finish it; the article's own spans are the adjudication's, and change only once a reviewer who
  annotated neither version has begun it (its first decision, ``review.adjudication``), and after,
  by such a reviewer.
"""

from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from articles.editing.refusals import Gone, NotNow, NotYours
from articles.models import Annotation, Article

EDIT = "articles.review_article"
ADJUDICATE = "articles.adjudicate_article"


def where(user: User, article_id: int) -> Article | Annotation:
    """The article, or the user's own version of it; ``check`` decides under the lock."""
    double = Article.objects.filter(pk=article_id).values_list("double", flat=True).first()
    if double is None:
        raise Gone(_("No article %(pk)s.") % {"pk": article_id})
    if double:
        mine = Annotation.objects.filter(article_id=article_id, editor=user).values_list("pk", flat=True).first()
        if mine is not None:
            return Annotation(pk=mine, article_id=article_id)
    return Article(pk=article_id)


def check(article: Article, annotation: Annotation | None, user: User | None) -> None:
    """Refuses a change by ``user``; None is the system (imports, the model), restricted by its callers."""
    if user is None:
        return
    if not user.has_perm(EDIT):
        raise NotYours(_("You may not change articles' entities."))
    if annotation is not None:
        if annotation.editor_id != user.pk:
            raise NotYours(_("That version of the article is another editor’s."))
        if annotation.finished_at is not None:
            raise NotNow(_("You finished your version of this article: a reviewer settles it now."))
        return
    if not article.double:
        return
    if not user.has_perm(ADJUDICATE):
        raise NotYours(
            _("Two other editors annotate this article, each in a version of their own: it is not yours to change.")
        )
    check_adjudicator(article, user)
    if article.adjudication_started_at is None:
        raise NotNow(
            _(
                "Nobody changes this article’s own entities before its adjudication begins: both editors "
                "finish their versions, then a reviewer settles them on the adjudication page."
            )
        )


def check_adjudicator(article: Article, user: User) -> None:
    if not user.has_perm(ADJUDICATE):
        raise NotYours(_("Only a reviewer or an admin adjudicates."))
    if Annotation.objects.filter(article=article, editor=user).exists():
        raise NotYours(_("You annotated a version of this article: another reviewer adjudicates it."))


def suggestions_allowed(article: Article) -> bool:
    """Never into gold spans, nor into the versions of an article annotated twice (kept independent)."""
    return not article.double and article.status != Article.Status.REVIEWED
