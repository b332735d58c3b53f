"""Create the role groups with their permissions (see escalation/roles.py)."""

from django.db import migrations

from escalation.roles import ROLE_PERMISSIONS, sync_role_permissions


def create_roles(apps, schema_editor):
    sync_role_permissions(apps, schema_editor)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLE_PERMISSIONS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("escalation", "0002_seed_priority_matrix"),
        ("incidents", "0002_timeline_append_only_trigger"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
