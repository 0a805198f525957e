"""One usage event to each receiver its outcome is routed to. At least once: the record's offset
is committed only after every receiver took it. A receiver that is away holds the partition (the
consumer retries with backoff until it is back, so nothing is lost); one that refuses the record
for good sends it to the dead-letter topic once the others have it. Receivers that already took
an event are not sent it again while it is retried."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping

from aiokafka.structs import ConsumerRecord
from google.protobuf.message import DecodeError

from switchyard.events.v1 import usage_pb2
from switchyard_callbacks.clients.sinks import Refused, Sink, Unavailable
from switchyard_callbacks.domain.records import Routing, standard_payload
from switchyard_common.kafka import PoisonMessage

log = logging.getLogger(__name__)

# Events whose delivery is part-way done (some receivers took them): bounded, oldest forgotten
# first (a forgotten one is delivered again in full, which the idempotency keys absorb).
_MAX_PARTIAL = 10_000


class Delivery:
    def __init__(self, routing: Routing, sinks: Mapping[str, Sink]) -> None:
        self._routing = routing
        self._sinks = sinks
        self._delivered: OrderedDict[str, set[str]] = OrderedDict()

    async def __call__(self, record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            event = usage_pb2.UsageEvent.FromString(record.value or b"")
        except DecodeError as exc:
            raise PoisonMessage(f"not a UsageEvent: {exc}") from None
        names = [n for n in self._routing.receivers(event.success) if n in self._sinks]
        if not names:
            return
        payload = standard_payload(event, redact=self._routing.redact)
        done = self._delivered.setdefault(event.event_id, set())
        if len(self._delivered) > _MAX_PARTIAL:
            self._delivered.popitem(last=False)
        away: list[str] = []
        refused: list[str] = []
        for name in names:
            if name in done:
                continue
            try:
                await self._sinks[name].send(event, payload)
            except Unavailable as exc:
                away.append(str(exc))
                continue
            except Refused as exc:
                refused.append(str(exc))
            done.add(name)
        if away:
            raise Unavailable("; ".join(away))
        self._delivered.pop(event.event_id, None)
        if refused:
            raise PoisonMessage("; ".join(refused))


def transient(exc: Exception) -> bool:
    """A receiver away is retried for as long as it is away."""
    return isinstance(exc, Unavailable)
