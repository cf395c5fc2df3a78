"""Chinese unless the user chose otherwise."""


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
