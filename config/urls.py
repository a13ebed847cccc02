from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from base import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("operator/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("", include("accounts.urls")),
    path("", include("tutoring.urls")),
]

# Requests Django itself refuses (a body over the limit, too many fields) answer like the
# edge's own refusals (base/middleware.py): the envelope under /api/, else the site's page.
handler400 = "base.middleware.bad_request"

if settings.DEBUG:  # pragma: no cover - development only
    # Only with DEBUG: Django's static-file view is for development and refuses to run
    # otherwise, so production never loads it.
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
