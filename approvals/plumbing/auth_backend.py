"""Django's model backend, loading a signed-in user and their permissions in one query.

Every reviewer page checks a permission, so ModelBackend's three queries per
request (the user, then their own permissions, then their groups') are a
measurable share of a page. The answers are the same; only the round trips go.
"""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

# The user's row and the names ("app_label.codename") of the permissions they
# hold directly or through a group. Raw SQL because the ORM would rebuild this
# statement on every request, for longer than PostgreSQL takes to run it.
_USER_WITH_PERMISSIONS_SQL = """
select u.*,
       array(select ct.app_label || '.' || perm.codename
               from auth_permission perm
               join django_content_type ct on ct.id = perm.content_type_id
              where perm.id in (select permission_id from auth_user_user_permissions where user_id = u.id)
                 or perm.id in (select gp.permission_id
                                  from auth_group_permissions gp
                                  join auth_user_groups ug on ug.group_id = gp.group_id
                                 where ug.user_id = u.id)) as permission_names
  from auth_user u
 where u.id = %s
"""


class OneQueryModelBackend(ModelBackend):
    def get_user(self, user_id):
        try:
            user_id = User._meta.pk.to_python(user_id)
        except ValidationError:  # a session naming no possible user: nobody
            return None
        user = next(iter(User.objects.raw(_USER_WITH_PERMISSIONS_SQL, [user_id])), None)
        if user is None or not self.user_can_authenticate(user):
            return None
        return user

    def get_all_permissions(self, user_obj, obj=None):
        # ModelBackend's has_perm and has_module_perms ask this (public) method;
        # a user loaded by get_user above brings the answer with them. Superusers,
        # per-object checks and users loaded elsewhere take ModelBackend's way.
        names = getattr(user_obj, "permission_names", None)
        if names is None or obj is not None or user_obj.is_superuser or not user_obj.is_active:
            return super().get_all_permissions(user_obj, obj=obj)
        return set(names)
