from django.urls import path
from django.views.generic import RedirectView

from articles import views

app_name = "articles"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="articles:list"), name="home"),
    path("articles/", views.article_list, name="list"),
    path("articles/<int:pk>/", views.article_detail, name="detail"),
    path("healthz", views.healthz, name="healthz"),
    path("quality/", views.quality_page, name="quality"),
    path("quality/train", views.quality_train, name="quality-train"),
    path("suggestions/<int:pk>/accept", views.suggestion_accept, name="suggestion-accept"),
    path("suggestions/<int:pk>/dismiss", views.suggestion_dismiss, name="suggestion-dismiss"),
]
