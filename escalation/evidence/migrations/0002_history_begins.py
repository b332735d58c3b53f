"""The history begins: one 'created' version of every configuration row that exists when the
history tables are made (the seeded priority matrix, the role groups, and whatever an existing
installation holds), so the handbook as of any later date finds every row."""

from django.db import migrations
from django.utils import timezone

TRACKED = {
    ("escalation", "PriorityMatrixEntry"): [],
    ("escalation", "EscalationRule"): ["services", "customers"],
    ("escalation", "BusinessCalendar"): [],
    ("escalation", "OnCallSchedule"): [],
    ("escalation", "ScheduleLayer"): [],
    ("escalation", "LayerMember"): [],
    ("escalation", "ScheduleOverride"): [],
    ("escalation", "EscalationPolicy"): ["services"],
    ("escalation", "EscalationLevel"): ["users"],
    ("escalation", "CommunicationRule"): ["users"],
    ("escalation", "Contract"): ["services"],
    ("escalation", "SlaTarget"): [],
    ("escalation", "PenaltyClause"): [],
    ("auth", "Group"): ["permissions"],
}
HISTORY_FIELDS = {"history_id", "history_date", "history_change_reason", "history_type"}


def history_begins(apps, schema_editor):
    now = timezone.now()
    for (app, name), m2m_fields in TRACKED.items():
        model = apps.get_model(app, name)
        history = apps.get_model("evidence", f"Historical{name}")
        copied = [
            f.attname
            for f in history._meta.fields
            if f.attname not in HISTORY_FIELDS and f.attname != "history_user_id"
        ]
        for row in model.objects.all():
            version = history.objects.create(
                history_date=now,
                history_type="+",
                history_change_reason="history begins",
                **{attname: getattr(row, attname) for attname in copied},
            )
            for field in m2m_fields:
                through = model._meta.get_field(field).remote_field.through
                m2m_history = apps.get_model("evidence", f"Historical{name}_{field}")
                source = model._meta.model_name
                for link in through.objects.filter(**{f"{source}_id": row.pk}):
                    values = {f.attname: getattr(link, f.attname) for f in through._meta.fields}
                    m2m_history.objects.create(history=version, **values)


class Migration(migrations.Migration):
    dependencies = [("evidence", "0001_config_history")]

    operations = [migrations.RunPython(history_begins, migrations.RunPython.noop)]
