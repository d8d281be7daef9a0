from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ArticlesConfig(AppConfig):
    default = True
    name = "articles"


class AdminConfig(admin_apps.AdminConfig):
    default = False  # listed explicitly in INSTALLED_APPS, in place of django.contrib.admin
    # Not in articles/admin.py: the site must exist before that module registers models on it.
    default_site = "articles.site.admin_site.AnnotatorAdminSite"
