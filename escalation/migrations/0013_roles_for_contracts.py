from django.db import migrations

from escalation.roles import sync_role_permissions


class Migration(migrations.Migration):
    dependencies = [
        ("escalation", "0012_contracts_sla"),
        ("incidents", "0006_service_status_sla_events"),
    ]

    operations = [migrations.RunPython(sync_role_permissions, migrations.RunPython.noop)]
