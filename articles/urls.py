from django.urls import path
from django.views.generic import RedirectView

from articles import views

app_name = "articles"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="articles:list"), name="home"),
    path("articles/", views.article_list, name="list"),
    path("articles/next/", views.next_article, name="next"),
    path("articles/<int:pk>/", views.article_detail, name="detail"),
    path("articles/<int:pk>/spans/", views.create_span, name="create-span"),
    path("articles/<int:pk>/spans/<int:span_id>/label", views.relabel_span, name="relabel-span"),
    path("articles/<int:pk>/spans/<int:span_id>/accept", views.accept_span, name="accept-span"),
    path("articles/<int:pk>/spans/<int:span_id>/resize", views.resize_span, name="resize-span"),
    path("articles/<int:pk>/spans/<int:span_id>/delete", views.delete_span, name="delete-span"),
    path("articles/<int:pk>/spans/<int:span_id>/everywhere", views.label_all_occurrences, name="label-everywhere"),
    path("articles/<int:pk>/undo", views.undo, name="undo"),
    path("articles/<int:pk>/review", views.mark_reviewed, name="mark-reviewed"),
    path("healthz", views.healthz, name="healthz"),
]
