from django.db import migrations

from escalation.roles import sync_role_permissions


class Migration(migrations.Migration):
    dependencies = [("escalation", "0021_schedule_import")]

    operations = [migrations.RunPython(sync_role_permissions, migrations.RunPython.noop)]
