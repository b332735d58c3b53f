from django.db import migrations

from escalation.roles import sync_role_permissions


class Migration(migrations.Migration):
    dependencies = [
        ("escalation", "0010_eventwebhook"),
        ("incidents", "0005_incident_alert_count_incident_last_alert_at"),
    ]

    operations = [migrations.RunPython(sync_role_permissions, migrations.RunPython.noop)]
