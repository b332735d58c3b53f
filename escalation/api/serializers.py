"""API serializers, one per audience where audiences differ (customers never get the team's)."""

from collections.abc import Mapping
from datetime import datetime

from django.core.validators import RegexValidator
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from incidents.models import (
    Audience,
    Customer,
    Impact,
    Incident,
    IncidentEvent,
    PublicIncident,
    PublicIncidentUpdate,
    PublicStatus,
    Service,
    ServiceGroup,
    Update,
    Urgency,
    User,
)
from incidents.presentation import incident_for_customer, public_incident_view

from ..services import allowed_actions
from ..services.workflow import ACTION_FIELDS


class Text(serializers.CharField):
    """A string (numbers and booleans are refused, not converted) with something in it."""

    def __init__(self, **kwargs):
        if not kwargs.get("allow_blank"):
            kwargs.setdefault("min_length", 1)
            kwargs.setdefault(
                "validators", [RegexValidator(r"\S", gettext_lazy("Must not be blank."))]
            )
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class KnownFieldsOnly:
    """A body naming a field the schema does not have is refused with the field's name ("Unknown
    field."), rather than the field being dropped silently (a typo such as "servcies" would
    otherwise create an incident on no service)."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(str(name) for name in data if name not in self.fields)
            if unknown:
                raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})
        return super().to_internal_value(data)


class StrictChar(serializers.CharField):
    """A string as the schema says: numbers and booleans are refused, not converted."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBoolean(serializers.BooleanField):
    """A JSON true or false as the schema says: 0, 1, "yes" and "true" are refused, not
    converted (DRF's BooleanField takes them)."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictManyRelatedField(serializers.ManyRelatedField):
    """`many=True` of a related field that takes a list only (DRF's would take an object's keys
    as the list): `StrictManyRelatedField(child_relation=SlugRelatedField(...))`."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            self.fail("not_a_list", input_type=type(data).__name__)
        return super().to_internal_value(data)


class BoundedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related object's id; one beyond the database's integer range is "not found" (not a
    database overflow, which would be a 500 on SQLite and a 503 on PostgreSQL)."""

    def to_internal_value(self, data):
        if isinstance(data, int | str) and not isinstance(data, bool):
            try:
                number = int(data)
            except ValueError:
                number = None
            if number is not None and not 0 < number < 2**31:
                self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


def iso_datetime(value: datetime, zone) -> str:
    """What DRF's DateTimeField gives for an aware time in the current zone (ISO 8601, UTC as
    "Z"), at a fraction of its cost: a page of 50 incidents formats 400 of them."""
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


COMMANDER_HELP = "Username of the incident commander; optional, null for none."


class IncidentSerializer(serializers.ModelSerializer):
    """The team's and executives' view of an incident."""

    commander = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text=COMMANDER_HELP
    )
    services = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    customers = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    impact = serializers.ChoiceField(choices=Impact.choices, allow_blank=True, read_only=True)
    urgency = serializers.ChoiceField(choices=Urgency.choices, allow_blank=True, read_only=True)
    allowed_actions = serializers.SerializerMethodField(
        help_text="The lifecycle actions the caller may take now (action endpoints' names)."
    )

    class Meta:
        model = Incident
        fields = [
            "id",
            "title",
            "description",
            "state",
            "impact",
            "urgency",
            "priority",
            "commander",
            "services",
            "customers",
            "source",
            "dedup_key",
            "escalation_required",
            "escalation_rule",
            "escalation_reason",
            "workaround",
            "resolution",
            "review",
            "detected_at",
            "acknowledged_at",
            "classified_at",
            "escalated_at",
            "workaround_at",
            "resolved_at",
            "closed_at",
            "updated_at",
            "allowed_actions",
        ]
        read_only_fields = fields

    def get_allowed_actions(self, incident) -> list[str]:
        """`incident`: a row (to_representation's) or an Incident. The actions depend on
        workflow.ACTION_FIELDS only (the state, and whether someone has it in hand): computed
        once per distinct value and response (a page of 50 incidents mostly shares a handful),
        on an incident made of just those fields."""
        request = self.context.get("request")
        user = request.user if request else None
        if isinstance(incident, dict):
            fields = {name: incident[name] for name in ACTION_FIELDS}
        else:  # DRF's own walk over the declared fields (the tests compare with it)
            fields = {name: getattr(incident, name) for name in ACTION_FIELDS}
        key = tuple(value if name == "state" else value is None for name, value in fields.items())
        cache = self.context.setdefault("_allowed_actions", {})
        if key not in cache:
            cache[key] = allowed_actions(Incident(**fields), user)
        return cache[key]

    _DATETIMES = (
        "detected_at",
        "acknowledged_at",
        "classified_at",
        "escalated_at",
        "workaround_at",
        "resolved_at",
        "closed_at",
        "updated_at",
    )
    _PLAIN = (
        "title",
        "description",
        "state",
        "impact",
        "urgency",
        "priority",
        "source",
        "dedup_key",
        "escalation_required",
        "escalation_rule",
        "escalation_reason",
        "workaround",
        "resolution",
        "review",
    )

    # What a list page reads per incident (`values()`, no model instances: see IncidentListView).
    COLUMNS = ("id", *_PLAIN, *_DATETIMES, "paging_since", "commander__username")

    @classmethod
    def row_of(cls, incident: Incident) -> dict:
        """A loaded incident as a list page's row (one incident: the detail and action views)."""
        row = {name: getattr(incident, name) for name in (*cls._PLAIN, *cls._DATETIMES)}
        row["id"], row["paging_since"] = incident.pk, incident.paging_since
        row["commander__username"] = incident.commander.username if incident.commander_id else None
        row["service_slugs"] = sorted(service.slug for service in incident.services.all())
        row["customer_slugs"] = sorted(customer.slug for customer in incident.customers.all())
        return row

    def to_representation(self, incident) -> dict:
        """Hand-built from a row (a dict of COLUMNS and the slugs, or an Incident made into one):
        the declared fields above stay the documented schema, but a list page of 50 incidents
        costs a fraction of DRF's generic field-by-field walk."""
        row = incident if isinstance(incident, dict) else self.row_of(incident)
        data = {"id": row["id"]}
        data.update({name: row[name] for name in self._PLAIN})
        data["commander"] = row["commander__username"]
        data["services"], data["customers"] = row["service_slugs"], row["customer_slugs"]
        zone = timezone.get_current_timezone()
        for name in self._DATETIMES:
            value = row[name]
            data[name] = iso_datetime(value, zone) if value else None
        data["allowed_actions"] = self.get_allowed_actions(row)
        return data


class _ServiceSlugs(serializers.ListField):
    """Service slugs: a list page's row has them (attach_slugs), else from the relation."""

    def __init__(self, **kwargs):
        super().__init__(child=serializers.CharField(), **kwargs)

    def get_attribute(self, incident):
        if isinstance(incident, dict):  # a list page's row
            return incident["service_slugs"]
        return sorted(service.slug for service in incident.services.all())


class CustomerIncidentSerializer(serializers.Serializer):
    """What a customer contact reads of an incident: its public face, through the one
    presentation rule (incidents.presentation): the public title and status, the reader's
    visible services, the customer-facing workaround; never the internal title or state."""

    id = serializers.IntegerField(read_only=True)
    public_incident = serializers.IntegerField(read_only=True, allow_null=True)
    title = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=PublicStatus.choices, read_only=True)
    status_label = serializers.CharField(read_only=True)
    services = serializers.ListField(child=serializers.CharField(), read_only=True)
    workaround = serializers.CharField(read_only=True)
    started_at = serializers.DateTimeField(read_only=True)
    resolved_at = serializers.DateTimeField(read_only=True, allow_null=True)
    next_update_at = serializers.DateTimeField(read_only=True, allow_null=True)

    def to_representation(self, incident) -> dict:
        request = self.context["request"]
        view = incident_for_customer(
            incident,
            language=reader_language(),
            customer_id=request.user.customer_id,
            redact=self.context.get("redact"),
        )
        zone = timezone.get_current_timezone()
        return {
            "id": incident.pk,
            "public_incident": view["id"],
            "title": view["title"],
            "status": view["status"],
            "status_label": view["status_label"],
            "services": view["services"],
            "workaround": view["workaround"],
            **{
                name: iso_datetime(view[name], zone) if view[name] else None
                for name in ("started_at", "resolved_at", "next_update_at")
            },
        }


def reader_language() -> str:
    language = translation.get_language() or "de"
    return "en" if language.startswith("en") else "de"


class _Slugs(serializers.SlugRelatedField):
    """A slug of an existing object; unknown slugs are a clear 400."""

    def __init__(self, model, **kwargs):
        super().__init__(slug_field="slug", queryset=model.objects.all(), many=False, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or not data.strip():
            self.fail("invalid")
        return super().to_internal_value(data)


class IncidentCreateSerializer(KnownFieldsOnly, serializers.Serializer):
    title = Text(max_length=300)
    description = Text(required=False, allow_blank=True, default="")
    services = serializers.ListField(child=_Slugs(Service), required=False, default=list)
    customers = serializers.ListField(child=_Slugs(Customer), required=False, default=list)
    commander = serializers.SlugRelatedField(
        slug_field="username",
        queryset=User.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        help_text=COMMANDER_HELP,
    )
    impact = serializers.ChoiceField(choices=Impact.choices, required=False)
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)

    def validate(self, data):
        if bool(data.get("impact")) != bool(data.get("urgency")):
            raise serializers.ValidationError(_("Give impact and urgency together, or neither."))
        return data


class IncidentPatchSerializer(serializers.Serializer):
    title = Text(max_length=300, required=False)
    description = Text(required=False, allow_blank=True)
    services = serializers.ListField(child=_Slugs(Service), required=False)
    customers = serializers.ListField(child=_Slugs(Customer), required=False)
    commander = serializers.SlugRelatedField(
        slug_field="username",
        queryset=User.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        help_text=COMMANDER_HELP,
    )

    def validate(self, data):
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            raise serializers.ValidationError(
                {
                    field: [
                        _("This field cannot be changed here (use the action endpoints).")
                        if field == "state"
                        else _("This field cannot be changed here.")
                    ]
                    for field in sorted(unknown)
                }
            )
        return data


class ClassifySerializer(serializers.Serializer):
    impact = serializers.ChoiceField(choices=Impact.choices)
    urgency = serializers.ChoiceField(choices=Urgency.choices)


class ReasonSerializer(serializers.Serializer):
    reason = Text(max_length=5000)


class EmptySerializer(serializers.Serializer):
    pass


class WorkaroundSerializer(serializers.Serializer):
    workaround = Text(max_length=10000)
    customer_text = serializers.CharField(
        max_length=10000,
        required=False,
        allow_blank=True,
        help_text="What customers read of the workaround (through the public face), if any.",
    )


class ResolveSerializer(serializers.Serializer):
    resolution = Text(max_length=10000)


class CloseSerializer(serializers.Serializer):
    review = Text(max_length=20000, required=False, allow_blank=True, default="")


class TimelineEventSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True)  # lifecycle kinds and the engine's own

    class Meta:
        model = IncidentEvent
        fields = [
            "seq",
            "kind",
            "actor_label",
            "from_state",
            "to_state",
            "data",
            "created_at",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields


class UpdateSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Update
        fields = ["id", "audience", "body", "author", "created_at"]
        read_only_fields = fields


class UpdateCreateSerializer(serializers.Serializer):
    audience = serializers.ChoiceField(choices=Audience.choices)
    body = Text(max_length=10000)


class ServiceSerializer(serializers.ModelSerializer):
    group = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Service
        fields = ["id", "slug", "name", "group", "description", "is_private"]
        read_only_fields = fields


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "slug", "name", "language", "time_zone"]
        read_only_fields = fields


# --- SLA clocks and penalty exposure (read from escalation.sla dataclasses) ------------------


class ChargeSerializer(serializers.Serializer):
    clause = serializers.IntegerField(source="clause.ref", allow_null=True)
    description = serializers.CharField(source="clause.describe")
    target = serializers.CharField(source="clause.target")
    form = serializers.CharField(source="clause.form")
    units = serializers.IntegerField(help_text="started periods, or 1 for a per-breach clause")
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class PenaltySerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="after the per-incident cap"
    )
    uncapped = serializers.DecimalField(max_digits=14, decimal_places=2)
    capped = serializers.BooleanField()
    charges = ChargeSerializer(many=True)


class TargetStateSerializer(serializers.Serializer):
    target = serializers.ChoiceField(choices=["response", "workaround", "restore"])
    target_minutes = serializers.IntegerField()
    elapsed_seconds = serializers.FloatField(help_text="service time, pauses left out")
    percent = serializers.FloatField()
    deadline_at = serializers.DateTimeField(allow_null=True)
    stopped_at = serializers.DateTimeField(allow_null=True)
    breached_at = serializers.DateTimeField(allow_null=True)
    missed = serializers.BooleanField()
    paused = serializers.BooleanField()


class ExposureSerializer(serializers.Serializer):
    contract = serializers.SerializerMethodField()
    customer = serializers.SerializerMethodField()
    currency = serializers.CharField()
    targets = TargetStateSerializer(many=True)
    accrued = PenaltySerializer()
    if_restored_in_1h = PenaltySerializer(source="in_1h")
    if_restored_in_4h = PenaltySerializer(source="in_4h")

    def get_contract(self, exposure) -> dict:
        return {"id": exposure.contract_id, "name": exposure.contract_name}

    def get_customer(self, exposure) -> dict:
        return {"id": exposure.customer_id, "name": exposure.customer_name}


class IncidentSlaSerializer(serializers.Serializer):
    incident = serializers.IntegerField()
    priority = serializers.IntegerField(allow_null=True)
    at = serializers.DateTimeField()
    paused = serializers.BooleanField()
    contracts = ExposureSerializer(many=True)


class MoneyByCurrencySerializer(serializers.Serializer):
    currency = serializers.CharField()
    accrued = serializers.DecimalField(max_digits=14, decimal_places=2)
    if_restored_in_1h = serializers.DecimalField(max_digits=14, decimal_places=2)
    if_restored_in_4h = serializers.DecimalField(max_digits=14, decimal_places=2)


class MonthCreditsSerializer(serializers.Serializer):
    contract = serializers.DictField()
    currency = serializers.CharField()
    incidents = serializers.IntegerField()
    credits = serializers.DecimalField(max_digits=14, decimal_places=2)
    uncapped = serializers.DecimalField(max_digits=14, decimal_places=2)
    cap = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)


class OpenIncidentExposureSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    priority = serializers.IntegerField(allow_null=True)
    state = serializers.CharField()
    contracts = ExposureSerializer(many=True)


class CustomerExposureSerializer(serializers.Serializer):
    customer = serializers.DictField()
    at = serializers.DateTimeField()
    open_incidents = OpenIncidentExposureSerializer(many=True)
    totals = MoneyByCurrencySerializer(many=True)
    month_to_date = MonthCreditsSerializer(many=True)


# --- Public incidents ---------------------------------------------------------------------------


class PublicUpdateSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = PublicIncidentUpdate
        fields = ["id", "kind", "status", "body", "body_en", "author", "created_at"]
        read_only_fields = fields


class PublicIncidentSerializer(serializers.ModelSerializer):
    """The team's view of a public incident: both languages, what it covers, who published."""

    services = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    incidents = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    published_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    updates = PublicUpdateSerializer(many=True, read_only=True)

    class Meta:
        model = PublicIncident
        fields = [
            "id",
            "title",
            "title_en",
            "body",
            "body_en",
            "status",
            "services",
            "incidents",
            "published_by",
            "published_rule",
            "published_at",
            "resolved_at",
            "updates",
        ]
        read_only_fields = fields


class CustomerPublicUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=PublicStatus.choices, read_only=True)
    status_label = serializers.CharField(read_only=True)
    body = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class CustomerPublicIncidentSerializer(serializers.Serializer):
    """What a customer contact reads of a public incident (incidents.presentation): in the
    reader's language, redacted, their visible services only, no internal incidents."""

    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    body = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=PublicStatus.choices, read_only=True)
    status_label = serializers.CharField(read_only=True)
    services = serializers.ListField(child=serializers.CharField(), read_only=True)
    workaround = serializers.CharField(read_only=True)
    started_at = serializers.DateTimeField(read_only=True)
    published_at = serializers.DateTimeField(read_only=True)
    resolved_at = serializers.DateTimeField(read_only=True, allow_null=True)
    next_update_at = serializers.DateTimeField(read_only=True, allow_null=True)
    updates = CustomerPublicUpdateSerializer(many=True, read_only=True)

    def to_representation(self, face) -> dict:
        view = public_incident_view(
            face,
            language=reader_language(),
            customer_id=self.context["request"].user.customer_id,
            redact=self.context.get("redact"),
        )
        zone = timezone.get_current_timezone()

        def when(value):
            return iso_datetime(value, zone) if value else None

        return {
            **{key: view[key] for key in ("id", "title", "body", "status", "status_label")},
            "services": view["services"],
            "workaround": view["workaround"],
            **{
                key: when(view[key])
                for key in ("started_at", "published_at", "resolved_at", "next_update_at")
            },
            "updates": [
                {
                    "status": u["status"],
                    "status_label": u["status_label"],
                    "body": u["body"],
                    "created_at": when(u["created_at"]),
                }
                for u in view["updates"]
            ],
        }


OPEN_PUBLIC_STATUSES = [(v, label) for v, label in PublicStatus.choices if v != "resolved"]


class PublicIncidentCreateSerializer(serializers.Serializer):
    """Publish: empty texts take the services' standard texts (Service.public_text)."""

    title = Text(max_length=300, required=False)
    title_en = Text(max_length=300, required=False)
    body = Text(max_length=10000, required=False)
    body_en = Text(max_length=10000, required=False)
    status = serializers.ChoiceField(choices=OPEN_PUBLIC_STATUSES, default="investigating")
    services = serializers.ListField(child=_Slugs(Service), required=False)
    groups = serializers.ListField(
        child=_Slugs(ServiceGroup), required=False, help_text="component groups: all their services"
    )
    incidents = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1),
        max_length=5000,
        required=False,
        default=list,
    )

    def validate(self, data):
        if not (data.get("incidents") or data.get("services") or data.get("groups")):
            raise serializers.ValidationError(
                _("Name the incidents, services or groups it covers.")
            )
        return data


class PublicIncidentLinkSerializer(serializers.Serializer):
    incidents = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1),
        min_length=1,
        max_length=5000,
        help_text="more incidents this public incident covers",
    )


class PublicUpdateCreateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=PublicStatus.choices, required=False)
    body = Text(max_length=10000, required=False)
    body_en = Text(max_length=10000, required=False)

    def validate(self, data):
        if data.get("status") != "resolved" and not data.get("body"):
            raise serializers.ValidationError({"body": [_("The update needs a text.")]})
        return data


class IncidentAlertSerializer(serializers.Serializer):
    """One alert of an incident: what monitoring sent, grouped onto it."""

    fingerprint = serializers.CharField(
        help_text="Alertmanager's fingerprint, or the Events API v2 dedup key of the alert."
    )
    labels = serializers.DictField(
        child=serializers.JSONField(),
        help_text="Alertmanager labels, or the Events API v2 payload fields it was grouped by.",
    )
    first_seen_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    firing = serializers.SerializerMethodField()

    def get_firing(self, alert) -> bool:
        return alert.resolved_at is None
