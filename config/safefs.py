"""The embedded default's message broker: kombu's file-system transport, made safe for several
producers and consumers at once. Registered with kombu as `safefs://` (settings.CELERY_BROKER_URL).

kombu's own transport (kombu/transport/filesystem.py, 5.7) creates a message file and only then
writes it; a worker polling the folder can move and read the file in between, gets an empty
payload and dies with `JSONDecodeError` (kombu issue #1551). On a busy machine that ended
`make run` within minutes. Here:

- a producer writes each message under a temporary name that no consumer picks up (`.tmp`) and
  renames it into place, so a consumer sees a whole message or none;
- a consumer claims a message by renaming it into the processed folder on the same file system
  (one rename wins; kombu's move into the system's temp folder copies across file systems, and
  then two consumers can both read one message), and sets a file it cannot parse aside in the
  `bad_folder` with an error in the log instead of crashing the worker;
- the exchange tables (fanout, used for remote control of workers) are rewritten the same way,
  through a temporary file and a rename under a lock file, so a reader never sees half a table.

Losing a message here (a worker killed between claim and execution) costs a delay, never the
message: the outbox sweep and the clock tick re-queue from the database.
"""

import logging
import os
import uuid
from pathlib import Path
from queue import Empty
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads
from kombu.utils.objects import cached_property

logger = logging.getLogger(__name__)

ALIAS = "safefs"


def _write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that a reader sees the old file, or the whole new one."""
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class Channel(filesystem.Channel):
    """kombu's file-system channel with atomic writes and claims (see the module docstring)."""

    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        try:
            _write_atomically(Path(self.data_folder_out) / name, str_to_bytes(dumps(payload)))
        except OSError as exc:
            raise ChannelError(f"Cannot add file {name!r} to directory") from exc

    def _get(self, queue):
        wanted = f"{queue}.msg"
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.partition(".")[2] != wanted:  # also skips "<name>.msg.<x>.tmp" files
                continue
            claimed = Path(self.processed_folder) / name
            try:
                os.rename(Path(self.data_folder_in) / name, claimed)
            except FileNotFoundError:
                continue  # another consumer won it
            except OSError as exc:
                raise ChannelError(f"Cannot claim {name!r} into {claimed.parent}") from exc
            try:
                payload = claimed.read_bytes()
                message = loads(bytes_to_str(payload))
            except (OSError, ValueError) as exc:
                self._set_aside(claimed, exc)
                continue
            if not self.store_processed:
                claimed.unlink(missing_ok=True)
            return message
        raise Empty()

    def _set_aside(self, claimed: Path, exc: Exception) -> None:
        bad = Path(self.bad_folder)
        try:
            bad.mkdir(parents=True, exist_ok=True)
            os.replace(claimed, bad / claimed.name)
        except OSError:
            claimed.unlink(missing_ok=True)
        logger.error("broker: unreadable message %s set aside in %s: %r", claimed.name, bad, exc)

    @cached_property
    def processed_folder(self):
        folder = self.transport_options.get("processed_folder", "processed")
        Path(folder).mkdir(parents=True, exist_ok=True)
        return folder

    @cached_property
    def bad_folder(self):
        default = Path(self.processed_folder).parent / "bad"
        return self.transport_options.get("bad_folder", str(default))

    # --- exchange tables: rewritten whole, under a lock file -----------------------------------

    def get_table(self, exchange):
        file = self._exchange_file(exchange)
        try:
            table = loads(bytes_to_str(file.read_bytes()))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise ChannelError(f"Cannot read {file}") from exc
        return [filesystem.exchange_queue_t(*q) for q in table]

    def _update_table(self, exchange, change) -> None:
        file = self._exchange_file(exchange)
        self.control_folder.mkdir(parents=True, exist_ok=True)
        try:
            with open(file.with_name(file.name + ".lock"), "wb") as lock_file:
                filesystem.lock(lock_file, filesystem.LOCK_EX)
                try:
                    queues = self.get_table(exchange)
                    changed = change(queues)
                    if changed is not None:
                        _write_atomically(file, str_to_bytes(dumps(changed)))
                finally:
                    filesystem.unlock(lock_file)
        except OSError as exc:
            raise ChannelError(f"Cannot update {file}") from exc

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")

        def add(queues):
            return None if entry in queues else [entry, *queues]

        self._update_table(exchange, add)

    def _delete(self, queue, exchange, routing_key, pattern, *args, **kwargs):
        # the virtual channel's bookkeeping, skipping kombu's in-place rewrite of the table
        virtual_delete = super(filesystem.Channel, self)._delete
        virtual_delete(queue, exchange, routing_key, pattern, *args, **kwargs)
        entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")

        def remove(queues):
            return [q for q in queues if q != entry] if entry in queues else None

        self._update_table(exchange, remove)


class Transport(filesystem.Transport):
    Channel = Channel
    driver_type = driver_name = ALIAS
    # a state of its own: kombu's filesystem transport keeps one per class
    global_state = filesystem.virtual.BrokerState()

    @property
    def default_connection_params(self):
        # No host: without this, every process logs "No hostname was supplied" at start.
        return {"port": self.default_port, "hostname": ""}


TRANSPORT_ALIASES.setdefault(ALIAS, "config.safefs:Transport")
