"""The application's URLs plus `/bench/minimal`, the smallest Django JSON view: the
baseline bench/api.py compares the API's endpoints with (same server, same middleware)."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from config.urls import urlpatterns as application_urlpatterns


def minimal(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/minimal", minimal, name="bench-minimal"), *application_urlpatterns]
