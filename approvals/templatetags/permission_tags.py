"""The permission rules for templates: a link or a button shows exactly when its view would let the user in.

`{% if user|may_reopen %}` asks approvals.permissions, the module every view's
check asks, so the page and the door cannot disagree.
"""

from django import template

from approvals import permissions

register = template.Library()


@register.filter
def may_review(user) -> bool:
    return permissions.may_review(user=user)


@register.filter
def may_reopen(user) -> bool:
    return permissions.may_reopen(user=user)


@register.filter
def may_view_analytics(user) -> bool:
    return permissions.may_view_analytics(user=user)
