"""Seed the three regimes: NIS2 (with its German implementation, BSIG §32), DORA and GDPR, with
their reports' deadline rules and required contents as the regulations' texts give them. They are
configuration: edit them in the admin when deadlines, authorities or templates change."""

from django.db import migrations

NIS2_CRITERIA = [
    (
        "severe_disruption",
        "Schwere Betriebsstörung der Dienste oder finanzieller Verlust für uns",
        "Severe operational disruption of the services or financial loss for us",
        "services",
    ),
    (
        "damage_others",
        "Erheblicher materieller oder immaterieller Schaden bei anderen (Kunden, Nutzer)",
        "Considerable material or non-material damage to others (customers, users)",
        "customers",
    ),
    (
        "unavailable_30min",
        "Dienst mehr als 30 Minuten vollständig nicht verfügbar (DVO (EU) 2024/2690)",
        "Service completely unavailable for more than 30 minutes "
        "(Implementing Regulation (EU) 2024/2690)",
        "duration",
    ),
    (
        "limited_1h",
        "Eingeschränkte Verfügbarkeit über 1 Stunde für mehr als 5 % der Nutzer "
        "in der EU oder mehr als 1 Mio. Nutzer",
        "Limited availability for more than 1 hour for "
        "more than 5 % of users in the EU or more than 1 million users",
        "duration",
    ),
    (
        "malicious_access",
        "Vermuteter böswilliger unbefugter Zugriff, der schwere Störungen verursachen kann",
        "Suspected malicious unauthorised access that can cause severe disruption",
        "",
    ),
    (
        "financial_loss",
        "Finanzieller Verlust über 500.000 EUR oder 5 % des Jahresumsatzes",
        "Financial loss over EUR 500,000 or 5 % of annual turnover",
        "",
    ),
]
DORA_CRITERIA = [
    (
        "clients",
        "Betroffene Kunden und Gegenparteien",
        "Clients and counterparts affected",
        "customers",
    ),
    ("duration", "Dauer und Ausfallzeit des Dienstes", "Duration and service downtime", "duration"),
    ("critical_services", "Kritische Dienste betroffen", "Critical services affected", "services"),
    (
        "geography",
        "Geografische Ausbreitung (mindestens zwei Mitgliedstaaten)",
        "Geographical spread (two or more Member States)",
        "",
    ),
    (
        "data_losses",
        "Datenverluste (Verfügbarkeit, Authentizität, Integrität, Vertraulichkeit)",
        "Data losses (availability, authenticity, integrity, confidentiality)",
        "personal_data",
    ),
    ("economic_impact", "Wirtschaftliche Auswirkungen", "Economic impact", ""),
    ("reputation", "Reputationsauswirkungen", "Reputational impact", ""),
]
GDPR_CRITERIA = [
    (
        "personal_data",
        "Personenbezogene Daten betroffen?",
        "Personal data involved?",
        "personal_data",
    ),
    (
        "breach",
        "Vernichtung, Verlust, Veränderung, unbefugte Offenlegung oder unbefugter Zugang",
        "Destruction, loss, alteration, unauthorised disclosure of or access to personal data",
        "",
    ),
    (
        "risk",
        "Voraussichtlich ein Risiko für die Rechte und Freiheiten natürlicher Personen "
        "(sonst keine Meldung, Art. 33 Abs. 1)",
        "Likely to result in a risk to the rights and "
        "freedoms of natural persons (else no notification, Art. 33(1))",
        "",
    ),
    (
        "high_risk",
        "Voraussichtlich hohes Risiko: Betroffene benachrichtigen (Art. 34)",
        "Likely high risk: inform the data subjects (Art. 34)",
        "",
    ),
]

REGIMES = [
    {
        "code": "nis2",
        "name": "NIS2 / BSIG §32",
        "authority": "Bundesamt für Sicherheit in der Informationstechnik (BSI)",
        "legal_basis": "Richtlinie (EU) 2022/2555 Art. 23; BSIG §32 (seit 6. Dezember 2025)",
        "description": "Significant incident. An intermediate report on the authority's request; "
        "if the incident is still ongoing when the final report is due, a progress report then "
        "and the final report within one month after handling ends.",
        "applies_to_all": True,
        "criteria": NIS2_CRITERIA,
        "reports": [
            (
                "early_warning",
                "Frühwarnung",
                "Early warning",
                "aware",
                24,
                0,
                None,
                "Verdacht auf rechtswidrige oder böswillige Handlung\n"
                "Mögliche grenzüberschreitende Auswirkungen",
                "Suspected unlawful or malicious act\nPossible cross-border impact",
            ),
            (
                "notification",
                "Meldung",
                "Incident notification",
                "aware",
                72,
                0,
                None,
                "Aktualisierung der Frühwarnung\nErste Bewertung: Schweregrad und Auswirkungen\n"
                "Kompromittierungsindikatoren, soweit vorhanden",
                "Update of the early warning\nInitial assessment: severity and impact\n"
                "Indicators of compromise, where available",
            ),
            (
                "final",
                "Abschlussmeldung",
                "Final report",
                "previous",
                0,
                1,
                None,
                "Ausführliche Beschreibung, Schweregrad und Auswirkungen\n"
                "Art der Bedrohung oder zugrunde liegende Ursache\n"
                "Getroffene und laufende Abhilfemaßnahmen\nGrenzüberschreitende Auswirkungen",
                "Detailed description, severity and impact\n"
                "Type of threat or root cause that likely triggered it\n"
                "Applied and ongoing mitigation measures\nCross-border impact, if any",
            ),
        ],
    },
    {
        "code": "dora",
        "name": "DORA",
        "authority": "Bundesanstalt für Finanzdienstleistungsaufsicht (BaFin)",
        "legal_basis": "Verordnung (EU) 2022/2554 Art. 19; Delegierte VO (EU) 2025/301",
        "description": "Major ICT-related incident of a financial entity, reported by it or on "
        "its behalf by its ICT provider. Name the financial-entity customers below.",
        "applies_to_all": False,
        "criteria": DORA_CRITERIA,
        "reports": [
            (
                "initial",
                "Erstmeldung",
                "Initial notification",
                "classified",
                4,
                0,
                24,
                "Allgemeine Angaben zum Finanzunternehmen\nErkennung und Klassifizierung\n"
                "Betroffene Dienste und Kunden",
                "General information on the financial entity\nDetection and classification\n"
                "Services and clients affected",
            ),
            (
                "intermediate",
                "Zwischenbericht",
                "Intermediate report",
                "previous",
                72,
                0,
                None,
                "Auswirkungen nach Klassifizierungskriterien\nStand der Wiederherstellung\n"
                "Kommunikation mit Kunden",
                "Impact under the classification criteria\nRecovery status\n"
                "Communication with clients",
            ),
            (
                "final",
                "Abschlussbericht",
                "Final report",
                "previous",
                0,
                1,
                None,
                "Ursachenanalyse\nDauerhafte Abhilfemaßnahmen\nDirekte und indirekte Kosten",
                "Root cause analysis\nPermanent remediation\nDirect and indirect costs and losses",
            ),
        ],
    },
    {
        "code": "gdpr",
        "name": "DSGVO / GDPR Art. 33",
        "authority": "Zuständige Datenschutzaufsichtsbehörde",
        "legal_basis": "Verordnung (EU) 2016/679 Art. 33, 34",
        "description": "Personal data breach. Notify later than 72 hours only with the reasons "
        "for the delay; inform the data subjects without undue delay where the risk is high "
        "(Art. 34).",
        "applies_to_all": True,
        "criteria": GDPR_CRITERIA,
        "reports": [
            (
                "notification",
                "Meldung an die Aufsichtsbehörde",
                "Notification to the supervisory authority",
                "aware",
                72,
                0,
                None,
                "Art der Verletzung, Kategorien und ungefähre Zahl der Betroffenen und Datensätze\n"
                "Name und Kontaktdaten des Datenschutzbeauftragten\n"
                "Wahrscheinliche Folgen\nErgriffene oder vorgeschlagene Maßnahmen\n"
                "Gründe für eine Verzögerung über 72 Stunden",
                "Nature of the breach, categories and approximate number of data subjects and "
                "records\nName and contact details of the data protection officer\n"
                "Likely consequences\nMeasures taken or proposed\n"
                "Reasons for a delay beyond 72 hours",
            ),
        ],
    },
]


def seed(apps, schema_editor):
    Regime = apps.get_model("regulatory", "Regime")
    ReportType = apps.get_model("regulatory", "ReportType")
    for position, spec in enumerate(REGIMES):
        regime, created = Regime.objects.get_or_create(
            code=spec["code"],
            defaults={
                "name": spec["name"],
                "authority": spec["authority"],
                "legal_basis": spec["legal_basis"],
                "description": spec["description"],
                "applies_to_all": spec["applies_to_all"],
                "position": position,
                "criteria": [
                    {"key": key, "de": de, "en": en, "fact": fact}
                    for key, de, en, fact in spec["criteria"]
                ],
            },
        )
        if not created:
            continue
        for index, report in enumerate(spec["reports"]):
            code, name, name_en, anchor, hours, months, cap, contents, contents_en = report
            ReportType.objects.create(
                regime=regime,
                code=code,
                name=name,
                name_en=name_en,
                position=index,
                anchor=anchor,
                hours=hours,
                months=months,
                cap_hours_from_aware=cap,
                contents=contents,
                contents_en=contents_en,
            )


class Migration(migrations.Migration):
    dependencies = [("regulatory", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
