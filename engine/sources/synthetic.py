"""The built-in synthetic Alcove: a seeded group of participants with plausible physiology.

Every participant breathes (10-20 breaths/min) and has a heartbeat (55-110 bpm with
respiratory sinus arrhythmia and beat-to-beat jitter), skin conductance (a drifting tonic
level with phasic responses) and four *simulated* dental-implant channels: saliva pH with
acid dips and slow recovery, oral temperature cooled by inhalation, bacterial load and the
biofilm that follows it. A ritual schedule guides everyone's breathing with a shared pacer:
each period (`sync_period`, 12 s by default: the 10-second demo tells it once) the group
breathes apart, each on a phase of their own, until 18 % of the period, is pulled into step by
30 %, stays in step until 55 % and is loose again by 67 % — so the group goes in and out of
synchrony (group synchrony follows about a second behind the pull). `phase` (0..1) starts the
schedule part-way through its period: with `sync_period=6,phase=0.2` everyone breathes in
step from the start, and group synchrony reads high as soon as the signals know everyone's
breathing (about 2 s), so a short render shows the braid.

The simulation steps at a fixed internal rate and draws from one seeded generator in a fixed
order, so its output depends only on the seed and the times asked for, never on how often
`poll` is called.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from engine.data import Chunk, Event
from engine.helpers import smoothstep
from engine.sources.base import Source, SourceError
from engine.sources.glitch import Glitcher
from engine.sources.intake import Rejects

TICK_HZ = 50
# A live show's clock jumps after a host stall (a drag, swapping): generating every missed second
# at once costs seconds of CPU for 64 participants and makes the next frame later still (seen in
# the soak: 14-27 s of CPU a frame). A live Show sets `max_catch_up` (engine.runtime.MAX_CATCH_UP,
# like RealtimeClock's max_dt): make up at most that much per poll and skip the rest (counted in
# `skipped_s`, logged).
# Otherwise (offline renders, recordings, tests) a poll generates everything up to `now`.
log = logging.getLogger("symphony")
RESP_EVERY = 2  # respiration at 25 Hz
EDA_EVERY = 10  # EDA at 5 Hz
SLOW_EVERY = 50  # implant channels at 1 Hz
SLOW_CHANNELS = ("saliva_ph", "oral_temp", "bacterial_load", "biofilm")


class SyntheticAlcove(Source):
    kind = "synthetic"
    options = {"participants": int, "seed": int, "sync_period": float, "phase": float, "alcove": str,
               "glitch": float, "alcoves": int}
    description = ("built-in generated Alcove (participants=N, seed=S, sync_period=seconds, "
                   "phase=0..1: where in its period the ritual starts, "
                   "glitch=P: dropouts, bursts, duplicates, out-of-order and garbage packets, "
                   "alcoves=K: participants shared out among Alcoves a1..aK)")

    def __init__(
        self, participants: int = 8, seed: int = 0, sync_period: float = 12.0, alcove: str = "a1",
        glitch: float = 0.0, alcoves: int = 0, phase: float = 0.0,
    ) -> None:
        if not 1 <= participants <= 256:
            raise SourceError("source 'synthetic': participants must be between 1 and 256")
        if sync_period <= 0:
            raise SourceError("source 'synthetic': sync_period must be positive")
        if not 0.0 <= phase <= 1.0:
            raise SourceError("source 'synthetic': phase must be between 0 and 1")
        if not 0.0 <= glitch <= 1.0:
            raise SourceError("source 'synthetic': glitch must be between 0 and 1")
        if not 0 <= alcoves <= participants:
            raise SourceError("source 'synthetic': alcoves must be between 0 and participants")
        self.glitch = Glitcher(seed, glitch, self.kind) if glitch > 0 else None
        self.rejects = self.glitch.rejects if self.glitch is not None else Rejects(self.kind)
        self.n = participants
        self.seed = seed
        self.sync_period = sync_period
        self.phase = phase
        self.alcove = alcove
        self.ids = [f"p{i:02d}" for i in range(participants)]
        # alcoves=K: consecutive participants share an Alcove (a1..aK); 0 leaves chunks untagged
        self.alcove_of = {pid: f"a{i * alcoves // participants + 1}" if alcoves else ""
                          for i, pid in enumerate(self.ids)}
        # ...and hold their rituals staggered by half a period / K, so they sync at different times
        self._stagger = (np.arange(participants) * alcoves // participants * sync_period / (2 * alcoves)
                         if alcoves > 1 else None)
        self._rng = np.random.default_rng(seed)
        self._init_state()
        self._tick = 0
        self.max_catch_up: float | None = None  # live shows: MAX_CATCH_UP
        self.skipped_s = 0.0  # time skipped after stalls of the host (see MAX_CATCH_UP)
        self._joined = False

    # -- state -------------------------------------------------------------------------
    def _init_state(self) -> None:
        n, r = self.n, self._rng
        self.hr_base = r.uniform(60.0, 88.0, n)
        self.hr_dev = np.zeros(n)
        self.beat_phase = r.uniform(0.0, 1.0, n)
        self.beat_threshold = np.ones(n)
        self.omega = 2 * np.pi * r.uniform(11.0, 17.0, n) / 60.0  # natural breathing, rad/s
        self.phi = r.uniform(0.0, 2 * np.pi, n)
        self.resp_amp = r.uniform(0.7, 1.3, n)
        self.resp_offset = r.uniform(-0.2, 0.2, n)
        self.pacer = 0.0
        self.eda_tonic = r.uniform(2.0, 9.0, n)
        self.scr_rise = np.zeros(n)
        self.scr_out = np.zeros(n)
        self.ph_base = r.uniform(6.7, 7.3, n)
        self.ph_dip = np.zeros(n)
        self.temp_base = r.uniform(36.3, 36.9, n)
        self.temp_cool = np.zeros(n)
        self.bacteria = r.uniform(0.25, 0.65, n)
        self.biofilm = self.bacteria * r.uniform(0.6, 0.9, n)
        # apart, participant i breathes this far behind the pacer: evenly round the circle
        self.offset = 2 * np.pi * np.arange(n) / n + r.uniform(-0.3, 0.3, n)

    def apart(self, t: float) -> float:
        """Ritual schedule: 1 while everyone breathes on a phase of their own, 0 in step.
        Over a period: apart until 18 %, into step by 30 %, in step until 55 %, loose by 67 %."""
        u = ((t % self.sync_period) / self.sync_period + self.phase) % 1.0
        return 1.0 - smoothstep(0.18, 0.3, u) * (1.0 - smoothstep(0.55, 0.67, u))

    def coupling(self, t: float) -> float:
        """How strongly breathing is pulled to its place against the shared pacer (rad/s):
        firmer in step than apart."""
        return 2.5 - 1.0 * self.apart(t)

    # -- stepping ----------------------------------------------------------------------
    def _step(self, t: float, dt: float, beats: list[Event]) -> None:
        n, r = self.n, self._rng
        noise = r.standard_normal((6, n))
        if self._stagger is None:
            k, apart = self.coupling(t), self.apart(t)
        else:
            k = np.array([self.coupling(t + d) for d in self._stagger])
            apart = np.array([self.apart(t + d) for d in self._stagger])
        self.pacer += 2 * np.pi * 12.0 / 60.0 * dt
        target = self.pacer - apart * self.offset
        self.phi += (self.omega + k * np.sin(target - self.phi)) * dt + 0.02 * noise[0] * math.sqrt(dt)
        self.omega += (-0.02 * (self.omega - 2 * np.pi * 14.0 / 60.0)) * dt

        # heart: OU drift around the base, respiratory sinus arrhythmia, jittered beats
        self.hr_dev += -0.05 * self.hr_dev * dt + 1.2 * noise[1] * math.sqrt(dt)
        hr = np.clip(self.hr_base + self.hr_dev + 3.0 * np.cos(self.phi), 50.0, 115.0)
        before = self.beat_phase.copy()
        self.beat_phase += hr / 60.0 * dt
        for i in np.flatnonzero(self.beat_phase >= self.beat_threshold):
            frac = (self.beat_threshold[i] - before[i]) / (self.beat_phase[i] - before[i])
            tb = t - dt + frac * dt
            beats.append(Event(tb, "beat", self.ids[i], float(hr[i])))
            self.beat_phase[i] -= self.beat_threshold[i]
            self.beat_threshold[i] = 1.0 + 0.03 * r.standard_normal()

        # skin conductance: tonic OU + bi-exponential phasic responses (~3 per minute)
        self.eda_tonic += 0.01 * (5.0 - self.eda_tonic) * dt + 0.03 * noise[2] * math.sqrt(dt)
        self.eda_tonic = np.maximum(self.eda_tonic, 0.5)
        scr = (r.random(n) < 3.0 / 60.0 * dt) * r.uniform(0.2, 1.0, n)
        self.scr_rise += scr / 0.75 - self.scr_rise / 0.75 * dt
        self.scr_out += (self.scr_rise - self.scr_out) / 2.5 * dt

        # simulated implants: acid dips with slow recovery, breath cooling, bacteria/biofilm
        dips = (r.random(n) < 1.0 / 60.0 * dt) * r.uniform(0.3, 0.8, n)
        self.ph_dip += dips - self.ph_dip / 20.0 * dt
        inhale = np.maximum(-np.sin(self.phi), 0.0)
        self.temp_cool += (0.25 * inhale - self.temp_cool) / 3.0 * dt
        cleaning = 0.01 * (1.0 - apart)  # the ritual lowers the bacterial load while in step
        self.bacteria += (0.002 * (0.8 - self.bacteria) - cleaning) * dt + 0.002 * noise[3] * math.sqrt(dt)
        self.bacteria = np.clip(self.bacteria, 0.02, 0.98)
        self.biofilm += (self.bacteria * 0.85 - self.biofilm) / 60.0 * dt
        self.biofilm = np.clip(self.biofilm, 0.0, 1.0)

    def _respiration(self, noise: np.ndarray) -> np.ndarray:
        wave = np.cos(self.phi) + 0.15 * np.cos(2 * self.phi)
        return self.resp_amp * wave + self.resp_offset + 0.02 * noise

    def _slow_values(self) -> dict[str, np.ndarray]:
        return {
            "saliva_ph": np.clip(self.ph_base - self.ph_dip, 4.5, 8.0),
            "oral_temp": self.temp_base - self.temp_cool,
            "bacterial_load": self.bacteria,
            "biofilm": self.biofilm,
        }

    # -- Source ------------------------------------------------------------------------
    def poll(self, now: float) -> tuple[list[Chunk], list[Event]]:
        events: list[Event] = []
        if not self._joined:
            events += [Event(0.0, "join", pid) for pid in self.ids]
            self._joined = True
        series: dict[str, tuple[list[float], list[np.ndarray]]] = {}

        def emit(channel: str, t: float, values: np.ndarray) -> None:
            ts, vs = series.setdefault(channel, ([], []))
            ts.append(t)
            vs.append(values)

        dt = 1.0 / TICK_HZ
        behind = now - self._tick * dt
        if self.max_catch_up is not None and behind > self.max_catch_up:
            skip = int((behind - self.max_catch_up) / dt)
            self._tick += skip
            self.skipped_s += skip * dt
            log.warning("synthetic: the host stalled; skipped %.1f s of generated data (%.1f s in all)",
                        skip * dt, self.skipped_s)
        glitched: list[Chunk] = []
        while (self._tick + 1) * dt <= now + 1e-9:
            self._tick += 1
            t = self._tick * dt
            first_beat = len(events)
            self._step(t, dt, events)
            resp_noise = self._rng.standard_normal(self.n)
            if self._tick % RESP_EVERY == 0:
                emit("respiration", t, self._respiration(resp_noise))
            if self._tick % EDA_EVERY == 0:
                emit("eda", t, self.eda_tonic + self.scr_out)
            if self._tick % SLOW_EVERY == 0:
                for name, values in self._slow_values().items():
                    emit(name, t, values)
            if self.glitch is not None:
                glitched += self._glitch_tick(series, events[first_beat:], t)
                series.clear()
        if self.glitch is not None:
            for c in glitched:
                c.alcove = self.alcove_of.get(c.participant, "")
            return glitched, events

        chunks: list[Chunk] = []
        for channel, (ts, vs) in series.items():
            t_arr = np.asarray(ts, dtype=np.float64)
            table = np.asarray(vs, dtype=np.float32)
            chunks += [Chunk(pid, channel, t_arr, table[:, i], alcove=self.alcove_of[pid])
                       for i, pid in enumerate(self.ids)]
        for ev in events:
            if ev.kind == "beat":
                value = np.array([ev.value], np.float32)
                pid = ev.participant or ""
                chunks.append(Chunk(pid, "heart_rate", np.array([ev.t]), value,
                                    alcove=self.alcove_of.get(pid, "")))
        return chunks, events

    def _glitch_tick(self, series: dict, beats: list[Event], t: float) -> list[Chunk]:
        """One tick's samples as per-participant packets through the glitcher and the Intake."""
        assert self.glitch is not None
        packets = []
        for channel, (ts, vs) in series.items():
            for i, pid in enumerate(self.ids):
                packets.append((pid, channel, [ts[-1]], [float(np.float32(vs[-1][i]))]))
        for ev in beats:
            if ev.kind == "beat":
                packets.append((ev.participant, "heart_rate", [ev.t], [float(np.float32(ev.value))]))
        return self.glitch.tick(self._tick, packets)
