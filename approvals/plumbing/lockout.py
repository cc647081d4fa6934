"""The login page's side of login throttling (django-axes counts the failures; see settings).

The page says up front what repeated failures do, and a locked-out attempt
gets the same page with a 429 and a notice. Both read the same for a username
that exists and one that does not.
"""

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def throttle_terms() -> dict:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes}


class ThrottledLoginView(LoginView):
    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "throttle": throttle_terms()}


def lockout_response(request: HttpRequest, original_response=None, credentials: dict | None = None) -> HttpResponse:
    """What django-axes answers to a login while the username or the address is locked out."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username[:150]})
    context = {
        "form": form,
        "next": request.POST.get("next") or request.GET.get("next", ""),
        "throttle": throttle_terms(),
        "locked_out": True,
    }
    return render(request, "registration/login.html", context, status=429)
