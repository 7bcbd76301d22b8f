"""Failover: when no participant has sent valid data for `stale_after` seconds (or the live
source fails), the show takes its data from a fallback source (synthetic, or a recording
looped), and goes back as soon as live data returns.

Both sources feed the show for `crossfade` seconds at each switch, so the incoming
participants appear while the outgoing ones fade out (the signals' own staleness), and the
outputs never go dark in between. The fallback is polled every frame, live or not, so it
is warm (no burst of backlog) the moment it takes over.
"""

from __future__ import annotations

import logging

from engine.data import Chunk, Event
from engine.perform.config import FailoverSpec
from engine.sources import Source, open_source

log = logging.getLogger("symphony.perform")


class FailoverSource(Source):
    kind = "failover"

    def __init__(self, live: Source, spec: FailoverSpec, seed: int = 0) -> None:
        self.live, self.spec = live, spec
        self.fallback = open_source(spec.fallback, seed=seed)
        self.rejects = live.rejects  # the live source's health is what the operator watches
        self.forced = False
        self.active = "live"
        self.switches = 0
        self.switched_at = 0.0  # show time of the last switch
        self.last_live = 0.0  # show time of the last valid live sample
        self.live_errors = 0
        self.events: list[str] = []  # for the show log

    def start(self) -> None:
        self.fallback.__enter__()

    def stop(self) -> None:
        self.fallback.__exit__(None, None, None)

    def poll(self, now: float) -> tuple[list[Chunk], list[Event]]:
        try:
            chunks, events = self.live.poll(now)
        except Exception as exc:  # noqa: BLE001 - a failing live source is what failover is for
            self.live_errors += 1
            if self.live_errors == 1 or self.live_errors % 100 == 0:
                log.warning("live source failed (%s): failover keeps the show fed", exc)
            chunks, events = [], []
        if any(len(c.v) for c in chunks):
            self.last_live = now
        back_chunks, back_events = self.fallback.poll(now)
        gone = bool(getattr(self.live, "fatal", ""))  # gave up for good: no point waiting stale_after
        want = "fallback" if self.forced or gone or now - self.last_live > self.spec.stale_after else "live"
        if want != self.active:
            self.active, self.switched_at = want, now
            self.switches += 1
            why = "forced by the operator" if self.forced else (
                "live data returned" if want == "live" else "the live source gave up" if gone
                else f"no live data for {now - self.last_live:.1f} s")
            self.events.append(f"failover: {want} ({why})")
            log.warning("failover: %s is on (%s)", want, why)
        overlap = now - self.switched_at < self.spec.crossfade and self.switches
        if self.active == "fallback":
            return (back_chunks + chunks, back_events + events) if overlap else (back_chunks, back_events)
        return (chunks + back_chunks, events + back_events) if overlap else (chunks, events)
