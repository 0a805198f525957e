"""Settings of the guardrail service."""

from __future__ import annotations

from switchyard_common.settings import CommonSettings


class Settings(CommonSettings):
    service_name: str = "guardrail"
    grpc_port: int = 50055
    # Most characters one check scans (every text of the request together). More is blocked
    # ("guardrail input too large"), never passed unchecked. 4M characters is about 1M tokens,
    # the largest context windows; scanning that much takes about 0.5 s of one core.
    max_scan_chars: int = 4_000_000
    # A check still running after this long fails with DEADLINE_EXCEEDED (the caller's own
    # deadline wins when it is shorter), so no request holds the service longer.
    scan_deadline_seconds: float = 1.5
    # Checks of at most this many characters run at once on the event loop (well under a
    # millisecond). Larger ones run on worker threads, so that the service keeps answering small
    # checks meanwhile (RE2 releases the GIL while it searches).
    inline_scan_chars: int = 32_768
    scan_threads: int = 1
    # Large checks waiting for a worker beyond this many are refused at once (RESOURCE_EXHAUSTED)
    # instead of queueing memory and time without bound.
    max_queued_scans: int = 8
    # Most bytes of a stream segment held back for a match that may still grow (a private key
    # waiting for its END line); past that the held match is masked, up to the normal hold-back.
    stream_max_held_bytes: int = 16_384
