"""Request-wide rules: Chinese unless chosen otherwise, refusals, oversized bodies, headers."""


class ChineseByDefaultMiddleware:
    """Ignore the browser's Accept-Language: the UI is Simplified Chinese until the user picks
    English with the language switch (a cookie). Bureau and school PCs often run English
    systems; their users still expect the Chinese UI.

    Must come before django.middleware.locale.LocaleMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class RefusedMiddleware:
    """A refusal no view caught, mapped once for pages: ``Denied`` is a 403, any other
    ``Refused`` goes back to the page the user came from with the reason as a message
    (a GET shows it as a 400 page). Views that re-render a form catch it themselves."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.contrib import messages
        from django.core.exceptions import PermissionDenied
        from django.http import HttpResponseBadRequest
        from django.shortcuts import redirect
        from django.utils.html import escape
        from django.utils.http import url_has_allowed_host_and_scheme

        from .errors import Denied, Refused

        if isinstance(exception, Denied):
            raise PermissionDenied(exception.message) from exception
        if not isinstance(exception, Refused):
            return None
        back = request.META.get("HTTP_REFERER", "")
        if request.method == "POST" and url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            messages.error(request, exception.message)
            return redirect(back)
        return HttpResponseBadRequest(escape(exception.message))


class RequestTooLargeMiddleware:
    """Refuse a request whose declared body exceeds the largest allowed upload (413), before
    anything reads the body: no multi-gigabyte upload is spooled to disk only to be refused.

    The limit (``EDUPILOT_MAX_REQUEST_MB``) is the largest single file any form accepts plus
    room for the form's other fields. Must come first in MIDDLEWARE.
    """

    def __init__(self, get_response):
        from django.conf import settings

        self.get_response = get_response
        self.limit_mb = settings.EDUPILOT_MAX_REQUEST_MB

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > self.limit_mb * 1024 * 1024:
            from django.http import HttpResponse
            from django.utils.translation import gettext as _

            message = _(
                "上传的内容过大（%(size).1f MB），超过了 %(limit)s MB 的上限，未被接收。"
            ) % {
                "size": length / 1024 / 1024,
                "limit": self.limit_mb,
            }
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class NoStoreWhenLoggedInMiddleware:
    """``Cache-Control: no-store`` on every response to a logged-in user: pages and files hold
    a school's or a bureau's data, which no shared or browser cache should keep (a shared
    office PC, the back button after logging out). Static files never reach this (WhiteNoise
    answers them first). Place after AuthenticationMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            from django.utils.cache import add_never_cache_headers

            add_never_cache_headers(response)  # no-cache, no-store, must-revalidate, private
        return response
