"""Finding 8: the Alertmanager key in the URL landed in access logs. The shipped nginx config
logs with `log_format masked`: the real nginx, started on a free port with config/nginx.conf
(pointed at a local receiver instead of the `web` service), writes no key or token."""

import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import pytest

from tests.conftest import require
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
SECRET_PATHS = [
    "/api/v1/integrations/alertmanager/am-ZQSECRETKEY/",
    "/ack/ZQSECRETKEY.signature/",
    "/subscriptions/ZQSECRETKEY/unsubscribe/",
    "/oncall/3/ZQSECRETKEY.ics",
    "/oncall/people/7/ZQSECRETKEY.ics",
    "/accounts/reset/MQ/ZQSECRETKEY/",
]


@pytest.fixture
def upstream():
    class Quiet(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_GET

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture
def nginx(tmp_path, upstream):
    binary = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else ""
    )
    require(bool(binary), "nginx is not installed (apt-get install nginx)")
    port = free_port()
    site = (ROOT / "config" / "nginx.conf").read_text()
    site = site.replace(
        "set $web_upstream http://web:8000;", f"set $web_upstream http://127.0.0.1:{upstream};"
    )
    site = site.replace("listen 80 default_server;", f"listen 127.0.0.1:{port} default_server;")
    site = site.replace("/var/cache/nginx/status", str(tmp_path / "cache"))
    site = site.replace("/srv/var/status", str(tmp_path / "status"))  # the rendered status files
    site = site.replace("/var/log/nginx/access.log", str(tmp_path / "access.log"))
    assert str(tmp_path / "access.log") in site
    (tmp_path / "site.conf").write_text(site)
    mime = "/etc/nginx/mime.types"
    (tmp_path / "nginx.conf").write_text(
        # started as root, its workers would run as nobody, who cannot read pytest's tmp_path
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\nhttp {{\n"
        + (f"    include {mime};\n" if Path(mime).exists() else "")
        + "    access_log off;\n"
        + "".join(
            f"    {kind}_temp_path {tmp_path}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + f"    include {tmp_path}/site.conf;\n}}\n"
    )
    process = subprocess.Popen(  # noqa: S603
        [binary, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"]
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{base}/nginx-health", timeout=1)  # noqa: S310
            break
        except OSError:
            time.sleep(0.05)
    yield base, tmp_path / "access.log"
    process.terminate()
    process.wait(timeout=10)


def test_nginx_masks_keys_and_tokens_in_its_access_log(nginx):
    base, log = nginx
    for path in SECRET_PATHS:
        try:
            urllib.request.urlopen(f"{base}{path}", timeout=5)  # noqa: S310
        except urllib.error.HTTPError as exc:
            assert exc.code == 404  # answered by the upstream: proxied like the app's URLs
    urllib.request.urlopen(f"{base}/nginx-health", timeout=5)  # noqa: S310
    time.sleep(0.1)
    written = log.read_text()
    assert written.count("\n") == len(SECRET_PATHS)
    assert "ZQSECRETKEY" not in written
    assert written.count("***") == len(SECRET_PATHS)
    assert "/api/v1/integrations/alertmanager/***/ " in written
    assert "/oncall/3/***.ics" in written


def test_nginx_serves_the_feed_whose_self_link_is_the_fetched_url(nginx):
    """(The status page's feeds, through the same real nginx.) Fetched with ?lang=, the rendered
    file whose self link carries it; without, the one whose self link is the plain URL."""
    base, _log = nginx
    status = _log.parent / "status"
    status.mkdir()
    for lang in ("de", "en"):
        for kind in ("atom", "rss"):
            (status / f"feed.{lang}.{kind}").write_text(f"plain {lang} {kind}")
            (status / f"feed.{lang}.lang.{kind}").write_text(f"asked {lang} {kind}")

    def fetch(path: str, language: str = "") -> str:
        headers = {"Accept-Language": language} if language else {}
        request = urllib.request.Request(f"{base}{path}", headers=headers)  # noqa: S310
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.read().decode()

    assert fetch("/status/feed.atom", "de") == "plain de atom"
    assert fetch("/status/feed.atom", "en") == "plain en atom"
    assert fetch("/status/feed.atom?lang=de", "en") == "asked de atom"
    assert fetch("/status/feed.rss?lang=en") == "asked en rss"
    assert fetch("/status/feed.rss?lang=fr", "de") == "plain de rss"
