"""Calibration: what a bare Django view answers on this machine, so that the other benchmarks'
figures can be compared across machines. One view returning a 202 to a POST, no middleware,
no database, under gunicorn (2 workers) with wrk on the same machine, POSTing an event of the
size bench/ingest.py sends.

    .venv/bin/python bench/bare_view.py
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadgen import free_port, wrk  # noqa: E402

APP = """
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

settings.configure(DEBUG=False, ALLOWED_HOSTS=["*"], ROOT_URLCONF=__name__, SECRET_KEY="bench",
                   MIDDLEWARE=[])


@csrf_exempt
def view(request):
    return HttpResponse(b'{"status":"success"}', content_type="application/json", status=202)


urlpatterns = [path("e", view)]
application = get_wsgi_application()
"""

POST_LUA = """
wrk.method = "POST"
wrk.body = '{"routing_key":"0d4eace047e5137126cddb9eb09dea5e","event_action":"trigger",' ..
  '"dedup_key":"open-1","payload":{"summary":"Disk almost full on open-1","source":"db01",' ..
  '"severity":"warning"}}'
wrk.headers["Content-Type"] = "application/json"
"""


def bare_post_rate(*, workers: int, seconds: int, connections: int = 32, runs: int = 1) -> dict:
    """The bare view's figures (wrk's dict, the best of `runs`) under `workers` gunicorn workers:
    the floor other benchmarks state their figures against, measured in their own run."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "bare.py").write_text(APP)
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "bare:application", "-b", f"127.0.0.1:{port}",
             "-w", str(workers), "--log-level", "warning"],
            cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            time.sleep(3)
            results = [
                wrk(f"http://127.0.0.1:{port}/e", seconds, connections, script=POST_LUA)
                for _ in range(runs)
            ]
        finally:
            server.terminate()
            server.wait(timeout=30)
    return max(results, key=lambda run: run["rps"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    for _ in range(args.runs):
        run = bare_post_rate(workers=args.workers, seconds=args.seconds)
        print(
            f"bare Django view, {args.workers} gunicorn workers: {run['rps']:.0f} POSTs/s,"
            f" p50 {run['p50_ms']:.1f} ms, p99 {run['p99_ms']:.1f} ms,"
            f" {run['non_2xx']} non-2xx"
        )


if __name__ == "__main__":
    main()
