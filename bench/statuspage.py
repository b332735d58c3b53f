"""Benchmark: the public status page, measured with wrk over loopback in one run, side by side:

  (a) the app's /status/ under gunicorn (config/settings.py: StatusPageMiddleware answers from
      the stored file right after SecurityMiddleware);
  (a') the same without StatusPageMiddleware, through the whole middleware stack to the view
      (bench/statuspage_settings.py), to show what the short cut is worth;
  (b) a bare Django view returning the same bytes under the same gunicorn (the framework floor,
      bench/statuspage_floor.py);
  (c) nginx serving the same bytes as a static file (the physical limit);
  (d) the production path of docker-compose.yml started by hand: config/nginx.conf (adapted to
      loopback ports and temporary folders) in front of the app, serving the file the app wrote.

Goals: (a) >= 0.8 x (b), (d) >= 0.5 x (c). Before measuring, (d) is checked for what production
relies on (language by query/cookie/header, 304, JSON, and that no request reaches the app).

    .venv/bin/python bench/statuspage.py --workers 2 --seconds 10

Everything runs in a temporary folder: an SQLite database with the demo data (load_demo), the
rendered status page, nginx's configuration and cache. Needs wrk and nginx (Debian packages).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from loadgen import free_port, wrk

ROOT = Path(__file__).resolve().parent.parent

NGINX_MAIN = """
worker_processes auto;
{user}
pid {tmp}/nginx-{name}.pid;
error_log {tmp}/nginx-{name}.error.log warn;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    client_body_temp_path {tmp}/nginx-{name}/client_body;
    proxy_temp_path {tmp}/nginx-{name}/proxy;
    fastcgi_temp_path {tmp}/nginx-{name}/fastcgi;
    uwsgi_temp_path {tmp}/nginx-{name}/uwsgi;
    scgi_temp_path {tmp}/nginx-{name}/scgi;
    {body}
}}
"""


def wait_for(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout} s")


def fetch(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def start_nginx(tmp: Path, name: str, body: str) -> subprocess.Popen:
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / f"nginx-{name}" / sub).mkdir(parents=True, exist_ok=True)
    user = "user root root;" if os.geteuid() == 0 else ""
    conf = tmp / f"nginx-{name}.conf"
    conf.write_text(NGINX_MAIN.format(tmp=tmp, name=name, body=body, user=user))
    subprocess.run(["nginx", "-t", "-q", "-p", str(tmp), "-c", str(conf)], check=True)
    return subprocess.Popen(["nginx", "-p", str(tmp), "-c", str(conf), "-g", "daemon off;"])


def production_site(tmp: Path, status_dir: Path, port: int, app_port: int) -> str:
    """config/nginx.conf as docker-compose.yml mounts it, with loopback ports and temp folders."""
    site = (ROOT / "config" / "nginx.conf").read_text()
    replacements = [
        ("listen 80 default_server;", f"listen 127.0.0.1:{port} default_server;"),
        ("set $web_upstream http://web:8000;", f"set $web_upstream http://127.0.0.1:{app_port};"),
        ("/srv/var/status", str(status_dir)),
        ("/srv/static/", str(tmp / "static") + "/"),
        ("/var/cache/nginx", str(tmp / "nginx-cache")),
    ]
    for old, new in replacements:
        if old not in site:
            raise SystemExit(f"config/nginx.conf changed: '{old}' not found; adapt this script")
        site = site.replace(old, new)
    (tmp / "static").mkdir(exist_ok=True)
    (tmp / "nginx-cache").mkdir(exist_ok=True)
    return site


def gunicorn(module: str, port: int, workers: int, env: dict, log: Path | None = None, **kw):
    cmd = [sys.executable, "-m", "gunicorn", module, "-b", f"127.0.0.1:{port}"]
    cmd += ["-w", str(workers), "--log-level", "warning"]
    if log:
        cmd += ["--access-logfile", str(log)]
    if kw.get("chdir"):
        cmd += ["--chdir", kw["chdir"]]
    if kw.get("pythonpath"):
        cmd += ["--pythonpath", kw["pythonpath"]]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)


def check_production(base: str, status_dir: Path, app_log: Path) -> list[str]:
    """What production relies on, asked of nginx in front of the app (path (d))."""
    problems = []
    de = (status_dir / "index.de.html").read_bytes()
    en = (status_dir / "index.en.html").read_bytes()
    before = app_log.read_text().count("\n")
    cases = [
        ("/status/", {}, de),
        ("/status/?lang=en", {"Accept-Language": "de"}, en),
        ("/status/", {"Cookie": "django_language=en"}, en),
        ("/status/", {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.8"}, en),
        ("/status/", {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}, de),
        ("/status/api/v2/summary.json", {}, (status_dir / "api/v2/summary.json").read_bytes()),
    ]
    for path, headers, expected in cases:
        status, got_headers, body = fetch(base + path, headers)
        if status != 200 or body != expected:
            problems.append(f"{path} {headers}: {status}, not the expected file")
        if "max-age=5" not in got_headers.get("Cache-Control", ""):
            problems.append(f"{path}: Cache-Control is {got_headers.get('Cache-Control')}")
    status, headers, _ = fetch(base + "/status/")
    again, _, _ = fetch(base + "/status/", {"If-None-Match": headers.get("ETag", "")})
    if again != 304:
        problems.append(f"If-None-Match: {again}, expected 304")
    again, _, _ = fetch(base + "/status/", {"If-Modified-Since": headers.get("Last-Modified", "")})
    if again != 304:
        problems.append(f"If-Modified-Since: {again}, expected 304")
    after = app_log.read_text().count("\n")
    if after != before:
        problems.append(f"{after - before} requests reached the app")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers for (a), (b)")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--rounds", type=int, default=2, help="best of N runs per path")
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is needed (apt-get install {tool})")

    tmp = Path(tempfile.mkdtemp(prefix="bench-statuspage-"))
    tmp.chmod(0o755)  # nginx workers read the status files
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        VAR_DIR=str(tmp / "var"),
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    status_dir = tmp / "var" / "status"
    env["STATUS_PAGE_DIR"] = str(status_dir)
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "-v0"], ["load_demo", "-v0"], ["render_status_page"]):
        subprocess.run(manage + command, cwd=ROOT, env=env, check=True, capture_output=True)
    for path in [tmp / "var", *status_dir.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    body = (status_dir / "index.de.html").read_bytes()
    print(f"status page: {len(body)} bytes (index.de.html, demo data), {args.workers} gunicorn "
          f"workers, wrk -t{args.threads} -c{args.connections} -d{args.seconds}s, best of "
          f"{args.rounds}")  # fmt: skip

    ports = {name: free_port() for name in ("a", "a2", "b", "c", "d", "upstream")}
    app_log = tmp / "upstream-access.log"
    app_log.touch()
    processes = [
        gunicorn("config.wsgi:application", ports["a"], args.workers, env),
        gunicorn(
            "config.wsgi:application",
            ports["a2"],
            args.workers,
            {**env, "DJANGO_SETTINGS_MODULE": "statuspage_settings"},
            pythonpath=str(ROOT / "bench"),
        ),
        gunicorn(
            "statuspage_floor:application",
            ports["b"],
            args.workers,
            {**env, "STATUSPAGE_FLOOR_FILE": str(status_dir / "index.de.html")},
            chdir=str(ROOT / "bench"),
        ),
        gunicorn("config.wsgi:application", ports["upstream"], args.workers, env, log=app_log),
    ]
    try:
        static_site = (
            "open_file_cache max=256 inactive=30s; open_file_cache_valid 1s;\n"
            f"server {{ listen 127.0.0.1:{ports['c']}; location / {{ root {status_dir}; }} }}"
        )
        processes.append(start_nginx(tmp, "static", static_site))
        site = production_site(tmp, status_dir, ports["d"], ports["upstream"])
        processes.append(start_nginx(tmp, "production", site))
        urls = {
            "a": f"http://127.0.0.1:{ports['a']}/status/",
            "a2": f"http://127.0.0.1:{ports['a2']}/status/",
            "b": f"http://127.0.0.1:{ports['b']}/status/",
            "c": f"http://127.0.0.1:{ports['c']}/index.de.html",
            "d": f"http://127.0.0.1:{ports['d']}/status/",
        }
        for url in [*urls.values(), f"http://127.0.0.1:{ports['upstream']}/status/"]:
            wait_for(url)
        for name, url in urls.items():
            _, _, got = fetch(url)
            if got != body:
                sys.exit(f"({name}) {url} does not serve the same bytes")
        problems = check_production(f"http://127.0.0.1:{ports['d']}", status_dir, app_log)
        print("production path checks: " + ("ok" if not problems else "; ".join(problems)))
        reached_before = app_log.read_text().count("\n")

        labels = {
            "a": "(a) app /status/ under gunicorn",
            "a2": "(a') same, without StatusPageMiddleware",
            "b": "(b) bare Django view, same bytes",
            "c": "(c) nginx, static file",
            "d": "(d) production: nginx.conf + files",
        }
        best: dict[str, dict] = {}
        for _ in range(args.rounds):
            for name, url in urls.items():
                result = wrk(url, args.seconds, args.connections, threads=args.threads)
                if name not in best or result["rps"] > best[name]["rps"]:
                    best[name] = result
        reached = app_log.read_text().count("\n") - reached_before
        for name, label in labels.items():
            r = best[name]
            print(
                f"{label:38} {r['rps']:9.0f} requests/s   p50 {r['p50_ms']:6.2f} ms   "
                f"p99 {r['p99_ms']:6.2f} ms   non-2xx {r['non_2xx']}   "
                f"socket errors {r['socket_errors']}"
            )
        ab = best["a"]["rps"] / best["b"]["rps"]
        ab2 = best["a2"]["rps"] / best["b"]["rps"]
        dc = best["d"]["rps"] / best["c"]["rps"]
        print(f"(a)/(b) = {ab:.2f}  (goal >= 0.8: {'met' if ab >= 0.8 else 'NOT met'})")
        print(f"(a')/(b) = {ab2:.2f}  (goal >= 0.8: {'met' if ab2 >= 0.8 else 'NOT met'})")
        print(f"(d)/(c) = {dc:.2f}  (goal >= 0.5: {'met' if dc >= 0.5 else 'NOT met'})")
        print(f"requests that reached the app behind nginx during (d): {reached}")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
