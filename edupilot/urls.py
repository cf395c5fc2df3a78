from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("edupilot.core.urls")),
    path("accounts/", include("edupilot.accounts.urls")),
    path("orgs/", include("edupilot.orgs.urls")),
    path("programmes/", include("edupilot.programmes.urls")),
    path("applications/", include("edupilot.applications.urls")),
    path("review/", include("edupilot.review.urls")),
    # Selection's pages live under /review/selection/ and /review/expert/ (their old paths).
    path("review/", include("edupilot.selection.urls")),
    path("pilots/", include("edupilot.pilots.urls")),
    path("certification/", include("edupilot.certification.urls")),
    path("documents/", include("edupilot.documents.urls")),
    path("audit/", include("edupilot.audit.urls")),
    path("public/", include("edupilot.core.public_urls")),
    path("api/", include("edupilot.api.urls")),
    path("django-admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
