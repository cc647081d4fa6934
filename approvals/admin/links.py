"""Links between the console's pages and to the reviewer UI, built without queries."""

from urllib.parse import urlencode

from django.db.models import Model
from django.urls import reverse
from django.utils.html import format_html


def change_url(model: type[Model], pk) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk])


def changelist_url(model: type[Model], /, **params) -> str:
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


def change_link(model: type[Model], pk, label) -> str:
    if pk is None:
        return "—"
    return format_html('<a href="{}">{}</a>', change_url(model, pk), label)


def changelist_link(model: type[Model], label: str, /, **params) -> str:
    return format_html('<a href="{}">{}</a>', changelist_url(model, **params), label)


def review_url(approval_id) -> str:
    return reverse("approval-detail", args=[approval_id])


def review_link(approval_id, label: str = "Review page") -> str:
    if approval_id is None:
        return "—"
    return format_html('<a href="{}">{}</a>', review_url(approval_id), label)
