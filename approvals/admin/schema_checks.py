"""The tables' CHECK constraints (migrations_sql/001-005), as admin form validation.

An edit the database would refuse is a form error naming the field, not a
500: lengths and signs as the constraints say, JSON objects where the column
must hold one, and no NUL (PostgreSQL's text and jsonb cannot hold one).
"""

from django import forms
from django.core.validators import MaxLengthValidator, MinLengthValidator, MinValueValidator

from approvals.models import Artifact, Job, Project, Run

# (model, field): (shortest, longest), from the `char_length(...) between` checks.
LENGTHS = {
    (Project, "name"): (1, 200),
    (Artifact, "name"): (1, 300),
    (Job, "kind"): (1, 100),
    (Run, "model"): (1, 200),
}
# From the `>= 0` checks.
NON_NEGATIVE = {
    (Artifact, "size_bytes"),
    (Job, "attempts"),
    (Run, "prompt_tokens"),
    (Run, "completion_tokens"),
    (Run, "duration_ms"),
    (Run, "cost_usd"),
}
# From the `jsonb_typeof(...) = 'object'` checks.
JSON_OBJECTS = {(Artifact, "metadata"), (Job, "params"), (Run, "metadata")}


def no_nul_in_json(value) -> None:
    """jsonb refuses \\u0000 in any string or key; walked without recursion (a value may be deep)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and "\x00" in item:
            raise forms.ValidationError("JSON text cannot hold a NUL character (\\u0000).", code="null_characters")


def json_object(value) -> None:
    if not isinstance(value, dict):
        raise forms.ValidationError('This is a JSON object, e.g. {"platform": "linkedin"}.', code="not_object")


def schema_validators(model, name: str, field: forms.Field) -> list:
    validators = []
    if (model, name) in LENGTHS:
        shortest, longest = LENGTHS[(model, name)]
        validators += [MinLengthValidator(shortest), MaxLengthValidator(longest)]
    if (model, name) in NON_NEGATIVE:
        validators.append(MinValueValidator(0))
    if isinstance(field, forms.JSONField):
        validators.append(no_nul_in_json)
        if (model, name) in JSON_OBJECTS:
            validators.append(json_object)
    return validators


class SchemaCheckedForm(forms.ModelForm):
    """A ModelForm whose fields also check what the table's constraints check."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.validators = [*field.validators, *schema_validators(self._meta.model, name, field)]
