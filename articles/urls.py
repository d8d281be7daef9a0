from django.urls import path
from django.views.generic import RedirectView

from articles import views

app_name = "articles"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="articles:list"), name="home"),
    path("articles/", views.article_list, name="list"),
    path("articles/<int:pk>/", views.article_detail, name="detail"),
    path("articles/preannotation/", views.preannotation_progress, name="preannotation_progress"),
    path("healthz", views.healthz, name="healthz"),
]
