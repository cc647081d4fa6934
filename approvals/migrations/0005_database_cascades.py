# State only (the models are unmanaged, so these operations touch no table):
# the foreign keys leave deletes to the tables' own ON DELETE rules
# (migrations_sql/), and ReviewItem's column `models` is the field model_names,
# a name that does not shadow django.db.models.

import django.contrib.postgres.fields
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0004_ops_rollups"),
    ]

    operations = [
        migrations.AlterField(
            model_name="reviewclaim",
            name="approval",
            field=models.OneToOneField(
                db_column="approval_id",
                on_delete=django.db.models.deletion.DO_NOTHING,
                primary_key=True,
                related_name="claim",
                serialize=False,
                to="approvals.approval",
            ),
        ),
        migrations.AlterField(
            model_name="reviewitem",
            name="approval",
            field=models.OneToOneField(
                db_column="approval_id",
                on_delete=django.db.models.deletion.DO_NOTHING,
                primary_key=True,
                related_name="review_item",
                serialize=False,
                to="approvals.approval",
            ),
        ),
        migrations.AlterField(
            model_name="reviewtarget",
            name="project",
            field=models.OneToOneField(
                db_column="project_id",
                on_delete=django.db.models.deletion.DO_NOTHING,
                primary_key=True,
                related_name="review_target",
                serialize=False,
                to="approvals.project",
            ),
        ),
        migrations.RenameField(
            model_name="reviewitem",
            old_name="models",
            new_name="model_names",
        ),
        migrations.AlterField(
            model_name="reviewitem",
            name="model_names",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.TextField(), db_column="models", default=list, size=None
            ),
        ),
    ]
