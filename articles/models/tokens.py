"""The tokens and sentences an article came in with, for the exports that give them back."""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Func, Q

from articles.models.corpus import Article


class ArticleTokens(models.Model):
    """A CoNLL file's tokens and sentences, so the CoNLL export gives back exactly those; articles
    that came as text have none."""

    article = models.OneToOneField(Article, on_delete=models.CASCADE, primary_key=True, related_name="tokens")
    # Offsets into the body, as spans count them (code points, end exclusive).
    starts = ArrayField(models.IntegerField())
    ends = ArrayField(models.IntegerField())
    # The index of each sentence's first token.
    sentence_starts = ArrayField(models.IntegerField())
    # The tokens that opened a sentence with I-, going on with the entity the sentence before ended
    # in: imported as two spans (as CoNLL's scorer reads them), exported as the file wrote them.
    continued = ArrayField(models.IntegerField(), default=list, blank=True)

    class Meta:
        verbose_name_plural = "article tokens"
        constraints = [
            models.CheckConstraint(
                condition=Q(starts__len=Func(F("ends"), function="cardinality")), name="articletokens_one_end_a_start"
            ),
            models.CheckConstraint(condition=Q(sentence_starts__0=0), name="articletokens_first_sentence_at_start"),
        ]

    def __str__(self) -> str:
        return f"tokens of article {self.article_id}"

    def words(self, body: str) -> list[str]:
        return [body[start:end] for start, end in zip(self.starts, self.ends, strict=True)]
