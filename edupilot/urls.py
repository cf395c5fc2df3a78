from django.conf import settings
from django.contrib import admin
from django.urls import include, path

# The apps whose pages live under their own name: /<app>/ is edupilot.<app>.urls.
APPS_BY_NAME = (
    "accounts",
    "orgs",
    "programmes",
    "applications",
    "review",
    "pilots",
    "certification",
    "documents",
    "dashboards",
    "audit",
    "tokens",
    "api",
)

urlpatterns = [
    path("", include("edupilot.core.urls")),
    *(path(f"{app}/", include(f"edupilot.{app}.urls")) for app in APPS_BY_NAME),
    # Selection's pages live under /review/selection/ and /review/expert/ (their old paths),
    # after review's own.
    path("review/", include("edupilot.selection.urls")),
    path("public/pilots/", include("edupilot.pilots.public_urls")),
    path("public/", include("edupilot.core.public_urls")),
    path("django-admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
