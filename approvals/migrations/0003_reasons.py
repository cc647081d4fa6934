# State only: the columns are added by migrations_sql/009_add_approval_reasons.sql
# (the model is unmanaged, so these operations touch no table).

import django.contrib.postgres.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0002_claims"),
    ]

    operations = [
        migrations.AddField(
            model_name="approval",
            name="reasons",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.TextField(
                    choices=[
                        ("tone", "Tone"),
                        ("accuracy", "Accuracy"),
                        ("brand", "Brand"),
                        ("length", "Length"),
                        ("legal", "Legal"),
                        ("visual", "Visual"),
                        ("other", "Other"),
                    ]
                ),
                blank=True,
                default=list,
                size=None,
            ),
        ),
        migrations.AddField(
            model_name="approval",
            name="outcome",
            field=models.TextField(
                blank=True,
                choices=[
                    ("approved", "Approved"),
                    ("rejected", "Rejected"),
                    ("changes_requested", "Changes requested"),
                    ("approved_with_edits", "Approved with edits"),
                    ("replaced_by_edit", "Replaced by edit"),
                ],
                null=True,
            ),
        ),
    ]
