"""Escalation managers edit the reporting regimes in the admin (escalation/roles.py)."""

from django.db import migrations

from escalation.roles import sync_role_permissions


class Migration(migrations.Migration):
    dependencies = [("regulatory", "0002_seed_regimes"), ("escalation", "0003_roles")]

    operations = [migrations.RunPython(sync_role_permissions, migrations.RunPython.noop)]
