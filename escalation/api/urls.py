from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import ingest, integrations, people, public, views
from .oncall import OnCallView

urlpatterns = [
    path("incidents/", views.IncidentListView.as_view(), name="api_incidents"),
    path("incidents/<int:pk>/", views.IncidentDetailView.as_view(), name="api_incident"),
    path("incidents/<int:pk>/timeline/", views.TimelineView.as_view(), name="api_timeline"),
    path("incidents/<int:pk>/updates/", views.UpdatesView.as_view(), name="api_updates"),
    path(
        "incidents/<int:pk>/alerts/", views.IncidentAlertsView.as_view(), name="api_incident_alerts"
    ),
    path("incidents/<int:pk>/classify/", views.action_view("classify")),
    path("incidents/<int:pk>/escalate/", views.action_view("escalate")),
    path("incidents/<int:pk>/acknowledge/", views.action_view("acknowledge")),
    path("incidents/<int:pk>/workaround/", views.action_view("provide_workaround")),
    path("incidents/<int:pk>/resolve/", views.action_view("resolve")),
    path("incidents/<int:pk>/close/", views.action_view("close")),
    path("incidents/<int:pk>/reopen/", views.action_view("reopen")),
    path("incidents/<int:pk>/sla/", views.IncidentSlaView.as_view(), name="api_incident_sla"),
    path("incidents/<int:pk>/sla/pause/", views.SlaPauseView.as_view(), name="api_sla_pause"),
    path("incidents/<int:pk>/sla/resume/", views.SlaResumeView.as_view(), name="api_sla_resume"),
    path(
        "customers/<int:pk>/exposure/",
        views.CustomerExposureView.as_view(),
        name="api_customer_exposure",
    ),
    path("public-incidents/", public.PublicIncidentListView.as_view(), name="api_public_incidents"),
    path(
        "public-incidents/<int:pk>/",
        public.PublicIncidentDetailView.as_view(),
        name="api_public_incident",
    ),
    path(
        "public-incidents/<int:pk>/updates/",
        public.PublicIncidentUpdatesView.as_view(),
        name="api_public_incident_updates",
    ),
    path("incidents/<int:pk>/people/", people.IncidentPeopleView.as_view(), name="api_people"),
    path(
        "incidents/<int:pk>/people/commander/",
        people.CommanderView.as_view(),
        name="api_people_commander",
    ),
    path("incidents/<int:pk>/people/roles/", people.RoleView.as_view(), name="api_people_role"),
    path(
        "incidents/<int:pk>/people/responders/",
        people.PullInView.as_view(),
        name="api_people_pull_in",
    ),
    path("services/", views.ServiceListView.as_view(), name="api_services"),
    path("customers/", views.CustomerListView.as_view(), name="api_customers"),
    path("oncall/", OnCallView.as_view(), name="api_oncall"),
    path("integrations/", integrations.IntegrationListView.as_view(), name="api_integrations"),
    path(
        "integrations/<int:pk>/",
        integrations.IntegrationDetailView.as_view(),
        name="api_integration",
    ),
    path("integrations/events/v2/enqueue", ingest.EventsV2View.as_view(), name="api_events_v2"),
    path(
        "integrations/alertmanager/",
        ingest.AlertmanagerBearerView.as_view(),
        name="api_alertmanager_bearer",
    ),
    path(
        "integrations/alertmanager/<str:key>/",
        ingest.AlertmanagerView.as_view(),
        name="api_alertmanager",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
]
