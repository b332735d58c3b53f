"""The evidence dossier of an incident as JSON (GET /api/v1/incidents/{id}/dossier/)."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from escalation.api.views import ERRORS

from .dossier import incident_dossier
from .selectors import dossier_incidents_for, reads_full_dossier


@extend_schema(tags=["incidents"], responses={200: OpenApiTypes.OBJECT, **ERRORS})
class IncidentDossierView(APIView):
    """Everything an auditor asks for about one incident: the record, decisions with their rules,
    pages and acknowledgements, every message with its delivery status, SLA clocks and penalties,
    the nested apps' sections, and the hash-chained timeline with its verification and a script
    that recomputes the chain from this JSON (timeline.script). Staff and executives only (a
    customer gets a 404, as for an incident that does not exist)."""

    def get(self, request, pk: int):
        incident = get_object_or_404(dossier_incidents_for(request.user), pk=pk)
        full = reads_full_dossier(request.user)
        return Response(incident_dossier(incident, at=timezone.now(), full=full))
