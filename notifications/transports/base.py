"""What every transport does: send one rendered message, or raise TransportError."""

from dataclasses import dataclass, field


class TransportError(Exception):
    """Sending failed. `permanent` means retrying cannot help (bad address, 4xx refusal)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


@dataclass(frozen=True)
class Message:
    """A rendered message to one address; the delivery id is stable across retries."""

    delivery_id: str
    address: str
    language: str
    subject: str
    text: str
    html: str = ""
    chat: str = ""
    payload: dict = field(default_factory=dict)
    unsubscribe_url: str = ""
    signing_secret: str = ""
    previous_signing_secret: str = ""


class Transport:
    def send(self, message: Message) -> None:  # pragma: no cover - interface
        raise NotImplementedError
