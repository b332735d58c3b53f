"""What the benchmarks share: a free port, and wrk with a Lua `done` that prints its figures."""

import os
import re
import socket
import subprocess
import tempfile

# Appended to every wrk script: one machine-readable line with the run's figures.
STATS_LUA = """
done = function(summary, latency, requests)
  io.write(string.format("STATS %d %d %d %.3f %.3f %.3f\\n", summary.requests,
    summary.errors.status, summary.errors.timeout + summary.errors.connect + summary.errors.read,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.duration / 1e6))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wrk(
    url: str, seconds: int, connections: int, *, script: str = "", threads: int = 2, header=""
) -> dict:
    """Run wrk with `script` (requests; may be empty) plus STATS_LUA; the run's figures."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script + STATS_LUA)
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", f.name, url]
    if header:
        cmd[1:1] = ["-H", header]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(f.name)
    n, bad, socket_errors, p50, p99, duration = re.search(r"STATS (.*)", out).group(1).split()
    return {
        "requests": int(n),
        "non_2xx": int(bad),
        "socket_errors": int(socket_errors),
        "p50_ms": float(p50),
        "p99_ms": float(p99),
        "seconds": float(duration),
        "rps": int(n) / float(duration),
    }


def wait_http(url: str, timeout: float = 120) -> None:
    """Until a server answers `url` at all (any status): a fixed sleep is too short on a busy
    machine, where gunicorn's workers take seconds to import Django."""
    import time

    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=30, trust_env=False)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
