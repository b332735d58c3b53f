"""docker-compose.yml runs a worker per queue, each restarted and health-checked, and a beat whose
health check sees it alive. (The file's syntax and schema: .ci/check-compose.)"""

from pathlib import Path

import pytest
import yaml
from django.conf import settings

SERVICES = yaml.safe_load(
    (Path(__file__).resolve().parent.parent / "docker-compose.yml").read_text()
)["services"]


@pytest.mark.parametrize(
    ("service", "queue", "node"),
    [
        ("worker", settings.CELERY_TASK_DEFAULT_QUEUE, "default"),
        ("worker-pages", settings.CELERY_PAGES_QUEUE, "pages"),
        ("worker-clocks", settings.CELERY_CLOCKS_QUEUE, "clocks"),
    ],
)
def test_a_worker_per_queue_pinged_by_its_own_name(service, queue, node):
    spec = SERVICES[service]
    command = spec["command"]
    assert command[command.index("-Q") + 1] == queue
    assert command[command.index("-n") + 1] == f"{node}@%h"
    assert f"--destination {node}@$$HOSTNAME" in spec["healthcheck"]["test"][1]


@pytest.mark.parametrize("service", ["web", "worker", "worker-pages", "worker-clocks", "beat"])
def test_restarted_unless_stopped_and_health_checked(service):
    assert SERVICES[service]["restart"] == "unless-stopped"
    assert SERVICES[service]["healthcheck"]["test"]


def test_beat_health_check_reads_the_schedule_file_beat_writes():
    beat = SERVICES["beat"]
    schedule = beat["command"][beat["command"].index("--schedule") + 1]
    folder, name = schedule.rsplit("/", 1)
    assert f"find {folder} -maxdepth 1 -name '{name}*' -mmin -5" in beat["healthcheck"]["test"][1]
