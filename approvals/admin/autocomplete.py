"""An admin autocomplete select that shows a malformed chosen value as no choice, rather than a 500.

Django's AutocompleteSelect looks up the chosen value to show its label
(`?project=not-a-uuid` on an add page, or a POST the form then refuses): a
value the key's column cannot hold (not a UUID, a NUL byte) raised while the
page rendered. Such a value names no row, so it is left out; the form itself
still answers "Select a valid choice".
"""

from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError

from approvals.admin.changelist_checks import NUL


class CheckedAutocompleteSelect(AutocompleteSelect):
    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, [v for v in value if self._may_name_a_row(v)], attr)

    def _may_name_a_row(self, value) -> bool:
        remote = self.field.remote_field
        key = remote.model._meta.get_field(getattr(remote, "field_name", None) or remote.model._meta.pk.name)
        if NUL in str(value):
            return False
        try:
            key.to_python(value)
        except ValidationError:
            return False
        return True
