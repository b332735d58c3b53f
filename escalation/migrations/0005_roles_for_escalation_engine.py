from django.db import migrations

from escalation.roles import sync_role_permissions


class Migration(migrations.Migration):
    dependencies = [
        ("escalation", "0004_escalation_engine"),
        ("notifications", "0001_initial"),
    ]

    operations = [migrations.RunPython(sync_role_permissions, migrations.RunPython.noop)]
