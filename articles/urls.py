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
    path("healthz", views.healthz, name="healthz"),
    path("quality/", views.quality_page, name="quality"),
    path("quality/train", views.quality_train, name="quality-train"),
    path("suggestions/<int:pk>/accept", views.suggestion_accept, name="suggestion-accept"),
    path("suggestions/<int:pk>/dismiss", views.suggestion_dismiss, name="suggestion-dismiss"),
]
