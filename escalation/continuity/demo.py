"""Demo data of business continuity (demo.yaml), loaded at the end of load_demo. Idempotent:
processes are looked up by slug and runbooks by title; existing ones are left as they are."""

from pathlib import Path

import yaml
from django.db import transaction

from incidents.models import Customer, Service, User

from .models import BusinessProcess, Runbook
from .services import process_create, runbook_create

DATA = Path(__file__).with_name("demo.yaml")


@transaction.atomic
def continuity_demo_load() -> int:
    """Returns how many processes and runbooks were created now."""
    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    created = 0
    for spec in data["processes"]:
        if BusinessProcess.objects.filter(slug=spec["slug"]).exists():
            continue
        process_create(
            actor=None,
            name=spec["name"],
            slug=spec["slug"],
            description=spec.get("description", ""),
            owner=User.objects.filter(username=spec.get("owner")).first(),
            rto_minutes=spec["rto"],
            mtpd_minutes=spec["mtpd"],
            objectives=spec.get("objectives", {}),
            services=list(Service.objects.filter(slug__in=spec["services"])),
            customers=list(Customer.objects.filter(slug__in=spec["customers"])),
        )
        created += 1
    for spec in data["runbooks"]:
        if Runbook.objects.filter(title=spec["title"]).exists():
            continue
        runbook_create(
            actor=None,
            title=spec["title"],
            process=BusinessProcess.objects.filter(slug=spec.get("process")).first(),
            service=Service.objects.filter(slug=spec.get("service")).first(),
            preconditions=spec.get("preconditions", ""),
            steps=[{"text": s["text"], "performer": s.get("performer", "")} for s in spec["steps"]],
            performer=spec["performer"],
            customer_text_de=spec["customer_text_de"],
            customer_text_en=spec["customer_text_en"],
            limitations=spec.get("limitations", ""),
            expected_status=spec["expected_status"],
            needs_concession=spec["needs_concession"],
        )
        created += 1
    return created
