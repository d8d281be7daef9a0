from django.urls import path
from django.views.generic import RedirectView

from articles.export import views as export
from articles.ingest import views as ingest
from articles.quality import views as quality
from articles.queue import views as queue
from articles.review import views as review
from articles.site import views as site
from articles.workspace import history
from articles.workspace import views as workspace

app_name = "articles"
urlpatterns = [
    # A redirect to the list for a reader; any other method is a mistake (RedirectView takes them all).
    path("", RedirectView.as_view(pattern_name="articles:list", http_method_names=["get", "head"]), name="home"),
    path("articles/", queue.article_list, name="list"),
    path("articles/next/", queue.next_article, name="next"),
    path("articles/preannotation/", queue.preannotation_progress, name="preannotation_progress"),
    path("articles/<int:pk>/", workspace.article_detail, name="detail"),
    path("articles/<int:pk>/claim", workspace.claim, name="claim"),
    path("articles/<int:pk>/spans/", workspace.create_span, name="create-span"),
    path("articles/<int:pk>/spans/<int:span_id>/label", workspace.relabel_span, name="relabel-span"),
    path("articles/<int:pk>/spans/<int:span_id>/accept", workspace.accept_span, name="accept-span"),
    path("articles/<int:pk>/spans/<int:span_id>/resize", workspace.resize_span, name="resize-span"),
    path("articles/<int:pk>/spans/<int:span_id>/delete", workspace.delete_span, name="delete-span"),
    path("articles/<int:pk>/spans/<int:span_id>/everywhere", workspace.label_all_occurrences, name="label-everywhere"),
    path("articles/<int:pk>/spans/accept", workspace.accept_all, name="accept-all"),
    path("articles/<int:pk>/entities/<int:label_id>/", workspace.entity_group, name="entity-group"),
    path("articles/<int:pk>/undo", workspace.undo, name="undo"),
    path("articles/<int:pk>/review", workspace.mark_reviewed, name="mark-reviewed"),
    path("suggestions/<int:pk>/accept", workspace.suggestion_accept, name="suggestion-accept"),
    path("suggestions/<int:pk>/dismiss", workspace.suggestion_dismiss, name="suggestion-dismiss"),
    path("articles/<int:pk>/history/", history.article_history, name="history"),
    path("review/", review.review_page, name="review"),
    path("review/share", review.review_share, name="review-share"),
    path("articles/<int:pk>/adjudicate/", review.adjudicate, name="adjudicate"),
    path("articles/<int:pk>/adjudicate/decide", review.decide, name="adjudicate-decide"),
    path("articles/<int:pk>/adjudicate/finish", review.finish, name="adjudicate-finish"),
    path("upload/", ingest.upload, name="upload"),
    path("upload/<int:pk>/", ingest.upload_batch, name="upload-batch"),
    path("upload/<int:pk>/confirm/", ingest.confirm_upload, name="confirm-upload"),
    path("export/", export.export_page, name="export"),
    path("export/spans.<str:fmt>", export.export_download, name="export-download"),
    path("quality/", quality.quality_page, name="quality"),
    path("quality/train", quality.quality_train, name="quality-train"),
    path("quality/training/", quality.training_progress, name="quality-training"),
    path("healthz", site.healthz, name="healthz"),
]
