"""Gunicorn settings for Flow Review: `gunicorn -c gunicorn.conf.py flowsite.wsgi`.

Every value can be set from the environment (see docs/deploy.md); command-line
flags still win over this file.
"""

import os

from environs import Env

env = Env()

# Where to listen: BIND as given, else all interfaces on PORT (what container
# platforms set), else loopback only, for a reverse proxy on the same host.
if os.environ.get("BIND"):
    bind = os.environ["BIND"]
elif os.environ.get("PORT"):
    bind = f"0.0.0.0:{os.environ['PORT']}"
else:
    bind = "127.0.0.1:8000"

# Threaded workers (gthread): a file download holds one thread for as long as
# the client takes to read it, not a whole worker, so reviewer pages keep
# being served beside slow downloads. And the worker's main thread keeps its
# heartbeat going during a long response: a sync worker sends none while it
# writes, so `timeout` killed downloads lasting longer (13 of 42 MB arrived).
# Each thread may hold a database connection: workers x threads x instances
# must stay under the database's (or the pooler's) connection limit.
workers = env.int("WEB_CONCURRENCY", 2)
worker_class = "gthread"
threads = env.int("GUNICORN_THREADS", 4)

# A worker that stops answering its heartbeat for `timeout` seconds is killed
# and replaced (with gthread this is a stuck worker, never a long download).
timeout = env.int("GUNICORN_TIMEOUT", 30)
graceful_timeout = env.int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = env.int("GUNICORN_KEEPALIVE", 5)

# Recycle workers now and then, so a slow leak cannot grow without bound.
max_requests = env.int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10

# Django is imported once, in the master, and each worker forked from it: a
# recycled or replaced worker serves at once, and the workers share those pages
# of memory. Django opens no database connection at import, so none is shared
# across the fork. New code needs a restart: with the app preloaded, HUP
# re-forks the same code.
preload_app = True

# Logs to stdout/stderr for the platform to collect. The access line carries the
# request id the app echoes, so it joins the app's own JSON lines.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'

# The heartbeat file lives in memory: a container's overlay filesystem can
# stall it and get healthy workers killed. It holds no data, only its mtime.
_SHARED_MEMORY = "/dev/shm"  # noqa: S108
if os.path.isdir(_SHARED_MEMORY):
    worker_tmp_dir = _SHARED_MEMORY

# Which peers gunicorn believes about X-Forwarded-Proto (it then hands Django
# an https request): none unless BEHIND_PROXY=1, the same switch Django uses;
# then the proxy on this host, or FORWARDED_ALLOW_IPS. Without this, anyone
# able to reach gunicorn on loopback could claim HTTPS.
forwarded_allow_ips = env.str("FORWARDED_ALLOW_IPS", "127.0.0.1,::1") if env.bool("BEHIND_PROXY", False) else ""

# And only the header docs/deploy.md has the proxy set, the one Django's
# SECURE_PROXY_SSL_HEADER reads. Gunicorn's default also believes
# X-Forwarded-Ssl: on and X-Forwarded-Protocol: ssl, which a proxy that sets
# X-Forwarded-Proto passes through from the client untouched: a client could
# claim HTTPS over plain HTTP (no redirect, HSTS sent, Secure cookies set).
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
# Nor may a client's SCRIPT_NAME or PATH_INFO header (gunicorn's default
# forwarder_headers) move the URLs the app builds: the proxy sets neither.
forwarder_headers = ""
