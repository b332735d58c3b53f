"""Reads of the incident record, scoped to what each audience may see (here and nowhere else)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone, translation

from .models import (
    OPEN_STATES,
    Audience,
    Customer,
    Incident,
    PublicIncident,
    Service,
    Update,
    User,
)
from .presentation import faces_prefetch, incident_for_customer, redactor_for
from .statuspage.build import effect_of, worst

STAFF_GROUPS = ("escalation_manager", "responder")
EXECUTIVE_GROUP = "executive"


def role_of(user: User) -> str:
    """staff, executive, customer or none (group names as created by the roles migration)."""
    if not user.is_authenticated or not user.is_active:
        return "none"
    if user.is_superuser:
        return "staff"
    names = {g.name for g in user.groups.all()}
    if names & set(STAFF_GROUPS):
        return "staff"
    if EXECUTIVE_GROUP in names:
        return "executive"
    if user.customer_id:
        return "customer"
    return "none"


def incident_list_for(user: User, *, prefetch: bool = True) -> QuerySet[Incident]:
    """Every incident the user may read: staff and executives all, customer contacts their
    organisation's, anybody else none. Without `prefetch`, call attach_slugs on the page."""
    role = role_of(user)
    incidents = Incident.objects.select_related("commander")
    if prefetch:
        incidents = incidents.prefetch_related("services", "customers")
    if role in ("staff", "executive"):
        return incidents
    if role == "customer":
        return incidents.filter(customers=user.customer_id).distinct()
    return incidents.none()


def updates_for(user: User, incident: Incident) -> QuerySet[Update]:
    role = role_of(user)
    updates = incident.updates.select_related("author").order_by("-created_at")
    if role == "staff":
        return updates
    if role == "executive":
        return updates.filter(audience__in=[Audience.EXECUTIVE, Audience.CUSTOMER])
    if role == "customer":
        return updates.filter(audience=Audience.CUSTOMER)
    return updates.none()


def services_for(user: User) -> QuerySet[Service]:
    role = role_of(user)
    services = Service.objects.select_related("group").order_by("position", "name")
    if role in ("staff", "executive"):
        return services
    if role == "customer":
        return services.filter(customers=user.customer_id).distinct()
    return services.none()


def customers_for(user: User) -> QuerySet[Customer]:
    role = role_of(user)
    if role in ("staff", "executive"):
        return Customer.objects.order_by("name")
    if role == "customer":
        return Customer.objects.filter(pk=user.customer_id)
    return Customer.objects.none()


def _slugs_sql(relation, count: int) -> str:
    """SELECT incident id, slug FROM the relation's through table joined to its target."""
    quote = connection.ops.quote_name
    through = relation.through._meta
    target = relation.field.related_model._meta
    link = through.get_field(relation.field.m2m_reverse_field_name()).column
    source = through.get_field(relation.field.m2m_field_name()).column
    return (
        f"SELECT t.{quote(source)}, x.{quote('slug')} FROM {quote(through.db_table)} t "  # noqa: S608 # nosec B608
        f"JOIN {quote(target.db_table)} x ON x.{quote(target.pk.column)} = t.{quote(link)} "
        f"WHERE t.{quote(source)} IN ({', '.join(['%s'] * count)})"
    )


def attach_slugs(rows: list[dict]) -> list[dict]:
    """Affected services' and customers' slugs for a page of incident rows (dicts with "id", as
    `values()` gives them) in one small query (`service_slugs`, `customer_slugs`), without
    building related objects. Raw SQL: the ORM took longer to compile this union than the
    database to answer it (names come from the models, values are parameters)."""
    ids = [row["id"] for row in rows]
    slugs: dict[int, tuple[list[str], list[str]]] = {pk: ([], []) for pk in ids}
    if ids:
        sql = (
            f"SELECT 0, s.* FROM ({_slugs_sql(Incident.services, len(ids))}) s UNION ALL "  # noqa: S608 # nosec B608
            f"SELECT 1, c.* FROM ({_slugs_sql(Incident.customers, len(ids))}) c"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, ids + ids)
            for kind, pk, slug in cursor.fetchall():
                slugs[pk][kind].append(slug)
    for row in rows:
        row["service_slugs"] = sorted(slugs[row["id"]][0])
        row["customer_slugs"] = sorted(slugs[row["id"]][1])
    return rows


# --- Customer portal: one organisation's services and incidents ---------------------------------

PORTAL_RESOLVED_DAYS = 30
PORTAL_RESOLVED_LIMIT = 100


def incident_service_status(incident: Incident) -> str:
    """What an incident means for the services it affects (statuspage.build.effect_of: the same
    rule as the public status page)."""
    return effect_of(incident.state, incident.priority)


def worst_status(statuses) -> str:
    return worst(statuses)


def _own_services(user: User) -> list[Service]:
    if role_of(user) != "customer":
        return []
    return list(services_for(user))


def _present(incidents: list[Incident], user: User) -> list[Incident]:
    """What the contact reads of each incident (incidents.presentation: its public face, one
    redaction rule) as `public`, its title as `customer_title`; one entry per public face."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    language = "en" if language.startswith("en") else "de"
    redact = redactor_for(user.customer_id)
    shown, faces = [], set()
    for incident in incidents:
        incident.public = incident_for_customer(
            incident, language=language, customer_id=user.customer_id, redact=redact
        )
        incident.customer_title = incident.public["title"]
        if incident.public["id"] in faces:
            continue  # several incidents, one disruption: shown once
        faces.add(incident.public["id"])
        shown.append(incident)
    return shown


def portal_overview_for(user: User, *, now: datetime | None = None) -> dict:
    """A customer contact's portal: their organisation's services with the status their own open
    incidents give them (`status_override` wins), their open incidents and those resolved in the
    last PORTAL_RESOLVED_DAYS, of those only the ones with a public face (one per face). Each
    incident carries `own_services` (only this organisation's), `public` (what the contact may
    read of it: incidents.presentation) and `customer_title`. A fixed number of
    queries, however many incidents there are."""
    now = now or timezone.now()
    services = _own_services(user)
    ids = [service.pk for service in services]
    own_services = Prefetch(
        "services",
        queryset=Service.objects.filter(pk__in=ids).order_by("position", "name"),
        to_attr="own_services",
    )
    # Only incidents with a public face: customers hear of nothing before it is published.
    mine = incident_list_for(user, prefetch=False).filter(public_incidents__isnull=False).distinct()
    faces = faces_prefetch()
    # Two index-friendly queries (state; the partial index on resolved_at), not one OR over the
    # organisation's whole history: at a million incidents that is the difference between
    # milliseconds and a scan of everything the customer ever had.
    open_incidents = list(
        mine.filter(state__in=OPEN_STATES)
        .prefetch_related(own_services, faces, "services__customers")
        .order_by("-detected_at")
    )
    resolved = list(
        mine.filter(resolved_at__gte=now - timedelta(days=PORTAL_RESOLVED_DAYS))
        .exclude(state__in=OPEN_STATES)
        .prefetch_related(own_services, faces, "services__customers")
        .order_by("-resolved_at")[:PORTAL_RESOLVED_LIMIT]
    )
    affecting: dict[int, list[str]] = {pk: [] for pk in ids}
    for incident in open_incidents:
        incident.service_status = incident_service_status(incident)
        for service in incident.own_services:
            affecting[service.pk].append(incident.service_status)
    for service in services:
        service.status = service.status_override or worst_status(affecting[service.pk])
    open_incidents = _present(open_incidents, user)
    resolved = _present(resolved, user)
    return {"services": services, "open": open_incidents, "resolved": resolved}


def portal_incident_for(user: User, pk: int) -> Incident:
    """One incident of the contact's organisation with `own_services` (only this organisation's
    services among those affected) and `customer_title`; Incident.DoesNotExist for anything
    else."""
    ids = [service.pk for service in _own_services(user)]
    incident = (
        incident_list_for(user, prefetch=False)
        .filter(public_incidents__isnull=False)
        .distinct()
        .prefetch_related(
            Prefetch(
                "services",
                queryset=Service.objects.filter(pk__in=ids).order_by("position", "name"),
                to_attr="own_services",
            ),
            faces_prefetch(),
            "services__customers",
        )
        .get(pk=pk)
    )
    incident.service_status = incident_service_status(incident)
    _present([incident], user)
    return incident


def portal_scopes_for(user: User) -> list[tuple[str, str, bool]]:
    """What a contact's organisation may subscribe to, as (scope, name, is_private): the
    organisation itself and each of its services."""
    if role_of(user) != "customer":
        return []
    customer = Customer.objects.get(pk=user.customer_id)
    return [(f"customer:{customer.slug}", customer.name, False)] + [
        (f"service:{s.slug}", s.name, s.is_private) for s in services_for(user)
    ]


def public_subscription_scopes() -> list[tuple[str, str]]:
    """What anyone may subscribe to, as (scope, name): each group of the status page as a whole
    (what it will hold, too), and each service it shows (never private ones). The subscription
    form gets it through notifications.hooks."""
    from django.utils.translation import gettext as _

    services = list(
        Service.objects.filter(is_private=False)
        .select_related("group")
        .order_by("group__position", "group__name", "position", "name")
    )
    groups = {s.group.slug: s.group.name for s in services if s.group_id}
    return [
        (f"group:{slug}", _("All of %(group)s") % {"group": name}) for slug, name in groups.items()
    ] + [(f"service:{s.slug}", s.name) for s in services]


# --- Public incidents -------------------------------------------------------------------------


def public_incidents_for(user: User) -> QuerySet[PublicIncident]:
    """Public incidents the user may read: staff and executives all; a customer contact those
    of their organisation (covering an incident that affects it, or one of its services)."""
    role = role_of(user)
    faces = PublicIncident.objects.prefetch_related("services__customers", "incidents", "updates")
    if role in ("staff", "executive"):
        return faces.order_by("-published_at", "-pk")
    if role == "customer":
        mine = Q(incidents__customers=user.customer_id) | Q(services__customers=user.customer_id)
        ids = PublicIncident.objects.filter(mine).values("pk")
        return faces.filter(pk__in=ids).order_by("-published_at", "-pk")
    return faces.none()
