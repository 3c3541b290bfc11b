"""kombu's file-system transport, with messages that appear in the folder only when whole.

The embedded deployment's broker is a folder (kombu's ``filesystem`` transport).  Its
``_put`` creates a message file and then writes it, and its ``_get`` lists, moves and
reads files without taking the writer's lock, so a worker polling while the web posts can
take a file before its bytes are there.  It then fails to parse it: Celery stops the
worker ("Unrecoverable error: JSONDecodeError"), the supervisor starts it again, and the
message, whose file was already removed, is lost (seen with four clients posting at once,
docs/engine.md).  Here a message is written under a name ``_get`` does not take and
renamed into place, which is atomic within one folder.

Used through the transport alias ``localiser-files`` (``service.platform.config.celery_settings``);
everything else is kombu's.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

ALIAS = "localiser-files"
PARTIAL_SUFFIX = ".part"  # `_get` only takes names ending in ".<queue>.msg"


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: dict, **kwargs: object) -> None:
        """Put a message onto ``queue``: written whole, then renamed into place."""
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + PARTIAL_SUFFIX
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel


TRANSPORT_ALIASES.setdefault(ALIAS, f"{__name__}:Transport")
