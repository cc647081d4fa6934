"""Production settings plus one trivial logged-in view: the framework floor for the load benchmark."""

from flowsite.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
