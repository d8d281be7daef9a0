from django.urls import path
from django.views.generic import RedirectView

from articles import views

app_name = "articles"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="articles:list"), name="home"),
    path("articles/", views.article_list, name="list"),
    path("articles/next/", views.next_article, name="next"),
    path("articles/<int:pk>/", views.article_detail, name="detail"),
    path("upload/", views.upload, name="upload"),
    path("upload/<int:pk>/", views.upload_batch, name="upload-batch"),
    path("upload/<int:pk>/confirm/", views.confirm_upload, name="confirm-upload"),
    path("export/", views.export_page, name="export"),
    path("export/spans.<str:fmt>", views.export_download, name="export-download"),
    path("articles/<int:pk>/spans/", views.create_span, name="create-span"),
    path("articles/<int:pk>/spans/<int:span_id>/label", views.relabel_span, name="relabel-span"),
    path("articles/<int:pk>/spans/<int:span_id>/accept", views.accept_span, name="accept-span"),
    path("articles/<int:pk>/spans/<int:span_id>/resize", views.resize_span, name="resize-span"),
    path("articles/<int:pk>/spans/<int:span_id>/delete", views.delete_span, name="delete-span"),
    path("articles/<int:pk>/spans/<int:span_id>/everywhere", views.label_all_occurrences, name="label-everywhere"),
    path("articles/<int:pk>/undo", views.undo, name="undo"),
    path("articles/<int:pk>/review", views.mark_reviewed, name="mark-reviewed"),
    path("articles/<int:pk>/history/", views.article_history, name="history"),
    path("articles/preannotation/", views.preannotation_progress, name="preannotation_progress"),
    path("healthz", views.healthz, name="healthz"),
    path("quality/", views.quality_page, name="quality"),
    path("quality/train", views.quality_train, name="quality-train"),
    path("suggestions/<int:pk>/accept", views.suggestion_accept, name="suggestion-accept"),
    path("suggestions/<int:pk>/dismiss", views.suggestion_dismiss, name="suggestion-dismiss"),
]
