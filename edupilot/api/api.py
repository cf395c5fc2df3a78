"""REST API (django-ninja, OpenAPI at /api/v1/docs). Every endpoint goes through the same
scoping as the pages: request.scope, built by accounts.middleware for a browser session, or
by auth.TokenAuth for an API token (``Authorization: Bearer …``)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI, Swagger
from ninja.errors import ValidationError
from ninja.security import django_auth

from edupilot.core.errors import Refused

from .auth import TokenAuth


class _Docs(Swagger):
    """Swagger UI from django-ninja's bundled files (no CDN), in a page that passes axe-core:
    its language set, darker method colours, and no deep-link anchors nested inside the
    operations' buttons."""

    template = "api/swagger.html"


api = NinjaAPI(
    title="EduPilot API",
    docs=_Docs(settings={"deepLinking": False}),
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


# Pydantic's error types in the API's words (anything else keeps pydantic's own message),
# in the request's language; ``%(name)s`` is filled from the error's ``ctx``.
MESSAGES = {
    "missing": gettext_lazy("缺少必填项"),
    "string_too_long": gettext_lazy("最长 %(max_length)s 个字符"),
    "string_too_short": gettext_lazy("至少 %(min_length)s 个字符"),
    "too_long": gettext_lazy("最多 %(max_length)s 项"),
    "greater_than_equal": gettext_lazy("不能小于 %(ge)s"),
    "less_than_equal": gettext_lazy("不能大于 %(le)s"),
    "int_parsing": gettext_lazy("应为整数"),
    "int_type": gettext_lazy("应为整数"),
    "string_type": gettext_lazy("应为字符串"),
    "dict_type": gettext_lazy("应为对象 { … }"),
    "list_type": gettext_lazy("应为列表 [ … ]"),
    "model_attributes_type": gettext_lazy("应为对象 { … }"),
    "json_invalid": gettext_lazy("不是有效的 JSON"),
}


def _message(err: dict) -> str:
    template = MESSAGES.get(err.get("type", ""))
    if template is None:
        return str(err.get("msg", _("取值无效")))
    try:
        return str(template) % (err.get("ctx") or {})
    except (KeyError, TypeError, ValueError):
        return str(err.get("msg", _("取值无效")))


@api.exception_handler(ValidationError)
def invalid(request, exc: ValidationError):
    """A request the schema refuses: 422 with a Chinese message per field (and pydantic's
    ``detail`` for clients that read it)."""
    errors: dict[str, list[str]] = {}
    for err in exc.errors:
        where = ".".join(str(p) for p in err.get("loc", ()))
        errors.setdefault(where, []).append(_message(err))
    first = next(iter(errors.items()), ("", [_("请求有误")]))
    body = {
        "message": (
            _("请求参数有误：%(where)s %(what)s") % {"where": first[0], "what": first[1][0]}
        ).strip(),
        "errors": errors,
        "detail": exc.errors,
    }
    return api.create_response(request, body, status=422)


def register_routers() -> None:
    from edupilot.applications.api import programme_router as eligibility_router
    from edupilot.applications.api import router as applications_router
    from edupilot.certification.api import router as certification_router
    from edupilot.orgs.api import router as orgs_router
    from edupilot.pilots.api import router as pilots_router
    from edupilot.programmes.api import router as programmes_router
    from edupilot.review.api import router as review_router

    api.add_router("/orgs", orgs_router)
    api.add_router("/programmes", programmes_router)
    api.add_router("/programmes", eligibility_router)  # /programmes/{code}/eligibility
    api.add_router("/applications", applications_router)
    api.add_router("/review", review_router)
    api.add_router("/certification", certification_router)
    api.add_router("/pilots", pilots_router)


register_routers()
