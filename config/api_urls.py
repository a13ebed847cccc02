"""REST API v1 (mounted at /api/v1/)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
