from django.db import migrations

from escalation.classification import ITIL_DEFAULT_MATRIX


def seed(apps, schema_editor):
    Cell = apps.get_model("escalation", "PriorityMatrixEntry")
    for (impact, urgency), priority in ITIL_DEFAULT_MATRIX.items():
        Cell.objects.get_or_create(impact=impact, urgency=urgency, defaults={"priority": priority})
    Rule = apps.get_model("escalation", "EscalationRule")
    Rule.objects.get_or_create(
        name="P1-P2 always escalate",
        defaults={"position": 10, "max_priority": 2, "auto_escalate": True},
    )


def unseed(apps, schema_editor):
    apps.get_model("escalation", "PriorityMatrixEntry").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("escalation", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
