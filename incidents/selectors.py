"""Reads of the incident record, scoped to what each audience may see (here and nowhere else)."""

from django.db.models import QuerySet

from .models import Audience, Customer, Incident, Service, Update, User

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


def attach_slugs(incidents: list[Incident]) -> list[Incident]:
    """Affected services' and customers' slugs for a page of incidents in two small queries
    (`service_slugs`, `customer_slugs`), without building related objects."""
    ids = [incident.pk for incident in incidents]
    services: dict[int, list[str]] = {pk: [] for pk in ids}
    customers: dict[int, list[str]] = {pk: [] for pk in ids}
    for pk, slug in Incident.services.through.objects.filter(incident_id__in=ids).values_list(
        "incident_id", "service__slug"
    ):
        services[pk].append(slug)
    for pk, slug in Incident.customers.through.objects.filter(incident_id__in=ids).values_list(
        "incident_id", "customer__slug"
    ):
        customers[pk].append(slug)
    for incident in incidents:
        incident.service_slugs = sorted(services[incident.pk])
        incident.customer_slugs = sorted(customers[incident.pk])
    return incidents
