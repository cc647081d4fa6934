"""Response headers every page gets, and the one every page of pipeline content gets."""

from django.views.decorators.cache import cache_control

# Only the app's own assets: no inline script, no CDN. htmx 2 runs under this
# because django-htmx serves it as a file and CSRF travels in hx-headers.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "frame-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


# Drafts, notes and files: a shared browser keeps no copy after logout, and no
# proxy keeps one at all.
keeps_no_copy = cache_control(private=True, no_store=True)
