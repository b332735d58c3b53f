"""Real servers on 127.0.0.1 for tests: an SMTP server (aiosmtpd) and an HTTP receiver."""

import hmac
import json
import socket
import threading
import time
from collections import Counter
from email import message_from_bytes, message_from_string, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SMTPRecorder:
    """aiosmtpd handler: keeps every message (and its envelope's recipients in `recipients`);
    answers with `reply` when set (e.g. 550 or 451)."""

    def __init__(self):
        self.messages = []
        self.recipients = []
        self.reply = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        if self.reply:
            return self.reply
        if envelope.smtp_utf8:  # RFC 6532: headers in UTF-8, read as a mail client reads them
            message = message_from_string(envelope.content.decode(), policy=policy.default)
        else:
            message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(message)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


@pytest.fixture
def smtp_server(settings):
    """A plain SMTP server: no SMTPUTF8 (aiosmtpd's controller would offer it by default)."""
    yield from _smtp_server(settings, enable_SMTPUTF8=False)


@pytest.fixture
def smtp_utf8_server(settings):
    """An SMTP server that offers SMTPUTF8 (RFC 6531), as Postfix and Exim do."""
    yield from _smtp_server(settings, enable_SMTPUTF8=True)


def _smtp_server(settings, **options):
    handler = SMTPRecorder()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    settings.EMAIL_BACKEND = "notifications.mail.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield handler
    controller.stop()


class Receiver:
    """Records POSTs; answers with the next status from `statuses` (200 when empty).

    It receives webhooks the way the README tells receivers to: a signed request
    (`X-Escalation-Signature`) is verified first, over the body as it arrived, and only a request
    that verifies counts. A body cut short (a sender killed mid-POST) or signed with another
    secret is answered 401 and kept in `rejected`, never in `requests` or `deliveries`, so its
    delivery id can never make the real message look like a repeat. Unsigned requests (Apprise's
    JSON, chat services) are recorded as they come.

    `secrets`: signing secrets accepted besides settings.WEBHOOK_SECRET (e.g. an outbound
    webhook's own). Every receiver of ours has its own random secret, which most tests never
    look at: while `secrets` is empty, a signed request is checked for a complete body only.
    `deliveries` counts verified requests per delivery id. `hold = (n, event)`
    makes the n-th verified request (1-based) wait for `event` before it is answered (a sender
    can then be killed while its request is in flight); `delay` seconds slow every answer.
    """

    def __init__(self, secrets: list[str] | None = None, *, use_settings: bool = True):
        self.requests: list[dict] = []
        self.rejected: list[dict] = []
        self.statuses: list[int] = []
        self.secrets: list[str] = list(secrets or [])
        self.use_settings = use_settings
        self.deliveries: Counter = Counter()
        self.hold: tuple[int, threading.Event] | None = None
        self.delay = 0.0
        self.url = ""
        self.lock = threading.Lock()

    def verified(self, headers, body: bytes) -> bool:
        from notifications.transports.webhook import signature

        secrets = list(self.secrets)
        if self.use_settings:
            from django.conf import settings

            secrets.append(settings.WEBHOOK_SECRET)
        timestamp = headers.get("X-Escalation-Timestamp", "")
        given = headers.get("X-Escalation-Signature", "")
        return any(hmac.compare_digest(signature(s, timestamp, body), given) for s in secrets)

    def receive(self, path: str, headers, body: bytes) -> tuple[int, threading.Event | None]:
        """Verify, then record; returns the status to answer and an event to wait for first."""
        record = {"path": path, "headers": dict(headers), "body": body, "at": time.monotonic()}
        with self.lock:
            if "X-Escalation-Signature" in headers:
                complete = len(body) == int(headers.get("Content-Length", 0))
                if not complete or (self.secrets and not self.verified(headers, body)):
                    self.rejected.append(record)
                    return 401, None
                self.deliveries[headers.get("X-Escalation-Delivery", "")] += 1
            self.requests.append(record)
            wait = None
            if self.hold and len(self.requests) == self.hold[0]:
                wait = self.hold[1]
            return (self.statuses.pop(0) if self.statuses else 200), wait

    def duplicates(self) -> int:
        """Verified requests beyond the first per delivery id."""
        return sum(n - 1 for n in self.deliveries.values())


def start_receiver(receiver: Receiver) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status, wait = receiver.receive(self.path, self.headers, body)
            if wait is not None:
                wait.wait(60)
            if receiver.delay:
                time.sleep(receiver.delay)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"status": status}).encode())
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender is gone (killed mid-request): nothing to answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def http_receiver():
    receiver = Receiver()
    server = start_receiver(receiver)
    yield receiver
    if receiver.hold:
        receiver.hold[1].set()
    server.shutdown()
    server.server_close()
