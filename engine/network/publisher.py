"""Publish an Alcove's features at a set rate; `symphony relay` runs it with no display.

The publisher talks only to the venue's own broker (its `publish.url`); that broker's bridge
carries the messages to the hub over TLS and queues them while the uplink is down. paho's
own queue is unbounded, so a restart of the venue broker loses nothing either.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

from engine.data import Frame
from engine.network.client import connect, make_client, parse_url
from engine.network.features import Pseudonyms, build_message, encode, topic_for
from engine.sources.base import SourceError

log = logging.getLogger("symphony")
DEFAULT_RATE = 10.0


class FeaturePublisher:
    """`offer(frame)` after every frame; a message goes out whenever a tick of `rate` is due."""

    def __init__(self, url: str, rate: float = DEFAULT_RATE, secret: bytes | None = None,
                 now: Callable[[], float] = time.time) -> None:
        self.url = parse_url(url)
        parts = self.url.topic.split("/")
        if len(parts) != 3 or topic_for(parts[1]) != self.url.topic:
            raise SourceError("--publish needs a topic owl/<alcove>/features, e.g. the network's publish.url")
        if not rate > 0:
            raise SourceError("the publish rate must be positive")
        self.alcove, self.rate, self.now = parts[1], float(rate), now
        self.names = Pseudonyms(secret or os.urandom(32))
        self.seq = 0
        self._next = None
        self.client = make_client(self.url, client_id=f"owl-{self.alcove}-pub-{os.getpid()}")
        self.client.on_connect = self._on_connect
        self.connected_once = False
        connect(self.client, self.url)

    def _on_connect(self, _c, _u, _flags, reason, _props) -> None:
        if reason.is_failure:
            log.error("publish: the broker refused the connection (%s)", reason)
        else:
            self.connected_once = True

    def offer(self, frame: Frame) -> bool:
        """Publish this frame's features if a tick is due (show time `frame.t`)."""
        if self._next is not None and frame.t < self._next - 1e-9:
            return False
        step = 1.0 / self.rate
        behind = self._next is None or frame.t - self._next > step  # (re)start the ticks here
        self._next = frame.t + step if behind else self._next + step
        self.publish(frame)
        return True

    def publish(self, frame: Frame) -> None:
        message = build_message(frame, self.alcove, self.seq, self.now(), self.names)
        self.client.publish(self.url.topic, encode(message), qos=1)
        self.seq += 1

    def flush(self, timeout: float = 5.0) -> None:
        """Wait (bounded) until every message has reached the venue broker."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and (self.client._out_messages or not self.client.is_connected()):
            time.sleep(0.01)

    def close(self) -> None:
        self.flush()
        self.client.disconnect()
        self.client.loop_stop()


def run_relay(source: str, publish: str, rate: float = DEFAULT_RATE, seconds: float | None = None,
              seed: int = 0, stop: Callable[[], bool] | None = None) -> int:
    """An edge box: source → signals → features at `rate`, no scene, no display. Returns the
    number of messages published."""
    from engine.clock import RealtimeClock
    from engine.signals import Signals
    from engine.sources import open_source

    publisher = FeaturePublisher(publish, rate)
    signals = Signals(max_participants=256)
    clock = RealtimeClock(max_dt=1.0)
    log.info("relay: %s → owl/%s/features at %g Hz", source.split("?")[0].split("@")[-1],
             publisher.alcove, rate)
    try:
        with open_source(source, seed=seed) as src:
            start = time.perf_counter()
            while True:
                tick = clock.tick()
                chunks, events = src.poll(tick.t)
                frame = signals.update(chunks, events, tick.t, tick.index, tick.dt)
                publisher.publish(frame)
                if (seconds is not None and tick.t >= seconds) or (stop is not None and stop()):
                    break
                ahead = start + (tick.index + 1) / rate - time.perf_counter()
                if ahead > 0:
                    time.sleep(ahead)
    except KeyboardInterrupt:
        log.info("relay: stopping")
    finally:
        publisher.close()
    return publisher.seq
