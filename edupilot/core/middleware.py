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
