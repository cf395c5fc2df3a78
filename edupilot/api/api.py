"""REST API (django-ninja, OpenAPI at /api/v1/docs). Every endpoint goes through the same
scoping as the pages: request.scope, built by accounts.middleware for a browser session, or
by auth.TokenAuth for an API token (``Authorization: Bearer …``)."""

from ninja import NinjaAPI
from ninja.security import django_auth

from edupilot.core.errors import Refused

from .auth import TokenAuth

api = NinjaAPI(
    title="EduPilot API",
    version="1",
    auth=[TokenAuth(), django_auth],
    urls_namespace="api",
)


@api.exception_handler(Refused)
def refused(request, exc: Refused):
    """Every refused action, mapped once: 403 when about who acts, else 400, with the reason."""
    body = {"message": exc.message}
    if exc.errors:
        body["errors"] = exc.errors
    return api.create_response(request, body, status=exc.status)


def register_routers() -> None:
    from edupilot.applications.api import programme_router as eligibility_router
    from edupilot.applications.api import router as applications_router
    from edupilot.certification.api import router as certification_router
    from edupilot.orgs.api import router as orgs_router
    from edupilot.programmes.api import router as programmes_router
    from edupilot.review.api import router as review_router

    api.add_router("/orgs", orgs_router)
    api.add_router("/programmes", programmes_router)
    api.add_router("/programmes", eligibility_router)  # /programmes/{code}/eligibility
    api.add_router("/applications", applications_router)
    api.add_router("/review", review_router)
    api.add_router("/certification", certification_router)


register_routers()
