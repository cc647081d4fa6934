"""SQL queries per queue page (at several page sizes) and per review page, in-process.

Run as `python -m bench.query_counts` with DATABASE_URL naming a seeded
database; prints one JSON object.
"""

import json
import os
import sys

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from approvals.filter_menus import forget_project_menu
    from approvals.models import Approval

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username=sys.argv[1] if len(sys.argv) > 1 else "bench_reviewer_1"))
    counts = {}
    for size in (25, 50, 100):
        forget_project_menu()  # the worst case: the project menu to read
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("queue"), {"limit": size})
        assert response.status_code == 200, response.status_code
        counts[f"queue_{size}"] = len(queries)
    pending = Approval.objects.filter(status="pending").order_by("created_at", "id").values_list("id", flat=True)
    # The 501st waiting item, or the middle one in a smaller queue (a smoke run's).
    approval_id = pending[min(500, pending.count() // 2)]
    forget_project_menu()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("approval-detail", args=[approval_id]))
    assert response.status_code == 200, response.status_code
    counts["review"] = len(queries)
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
