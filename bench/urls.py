from django.http import HttpResponse
from django.urls import path

from flowsite.urls import urlpatterns as app_urlpatterns


def floor(request):
    """As little as a logged-in Django view can do: session, user, response."""
    return HttpResponse(f"ok {request.user.username}", content_type="text/plain")


urlpatterns = [path("bench/floor/", floor, name="bench-floor"), *app_urlpatterns]
