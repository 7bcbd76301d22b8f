"""Privacy: every byte a venue publishes, in a run with real recordings, holds only the
documented feature keys: no waveform, no raw sample, no name. (Alice's ECG, EDA, PPG and
respiration are pyphysio's GPL recording where ../shared/data has it; elsewhere her ECG is the
shipped pyhrv excerpt, looped, and she sends no other channel.)

Participants are given real names as ids here on purpose: the keyed pseudonyms must hide them.
The bytes are read twice: at the venue broker (everything the publisher sent under the
Alcove's topics) and at the hub (everything that left the venue).
"""

from __future__ import annotations

import bz2
import json
import shutil

import numpy as np

from engine.data import Chunk
from engine.network.features import MESSAGE_KEYS, PARTICIPANT_KEYS, check_message
from engine.network.publisher import FeaturePublisher
from engine.network.up import Network
from engine.signals import Signals
from tests.conftest import SHARED_DATA
from tests.network_util import Reader, make_network, wait_for
from tests.real_data import mitbih208_ecg, pyhrv_ecg_mv

PYPHYSIO = SHARED_DATA / "pyphysio_medical_ecg_eda_bvp_resp_2048hz.txt.bz2"
SECONDS = 30.0
NAMES = ("alice", "Bob_Smith", "carol")


def _streams() -> list[tuple[str, str, float, np.ndarray]]:
    """(participant, channel, rate, samples): ECG, EDA, PPG and respiration of real people."""
    if PYPHYSIO.is_file():
        with bz2.open(PYPHYSIO, "rt") as f:
            med = np.loadtxt(f, max_rows=int(2048 * SECONDS))
        out = [(NAMES[0], ch, 2048.0, med[:, i]) for i, ch in enumerate(("ecg", "eda", "ppg", "respiration"))]
    else:
        ecg = pyhrv_ecg_mv()
        out = [(NAMES[0], "ecg", 1000.0, np.tile(ecg, int(np.ceil(1000 * SECONDS / ecg.size))))]
    out.append((NAMES[1], "ecg", 360.0, mitbih208_ecg(SECONDS)))
    rng = np.random.default_rng(1)  # the implant channels have no real recordings: simulated
    n = int(SECONDS)
    out += [(NAMES[2], "saliva_ph", 1.0, 6.8 + 0.1 * rng.standard_normal(n)),
            (NAMES[2], "oral_temp", 1.0, 36.6 + 0.05 * rng.standard_normal(n)),
            (NAMES[2], "bacterial_load", 1.0, np.clip(0.3 + 0.05 * rng.standard_normal(n), 0, 1)),
            (NAMES[2], "biofilm", 1.0, np.clip(0.2 + 0.05 * rng.standard_normal(n), 0, 1))]
    return out


def test_every_published_byte_holds_only_features():
    folder = make_network()
    try:
        with Network(folder) as _net:
            publish = (folder / "a1" / "publish.url").read_text().strip()
            venue = Reader(publish, topic="#")  # the venue broker: all the Alcove's account may see
            hub = Reader((folder / "hub" / "read.url").read_text().strip())
            assert wait_for(lambda: venue.subscribed and hub.subscribed, 10)
            pub = FeaturePublisher(publish)
            signals = Signals(max_participants=8)
            streams = _streams()
            step = 0.05
            for k in range(int(SECONDS / step)):
                t0, t1 = k * step, (k + 1) * step
                chunks = []
                for pid, channel, rate, v in streams:
                    a, b = int(round(t0 * rate)), int(round(t1 * rate))
                    if b > a:
                        chunks.append(Chunk(pid, channel, np.arange(a, b) / rate, v[a:b].astype(np.float32)))
                pub.offer(signals.update(chunks, [], t1, k, step))
            sent = pub.seq
            pub.close()
            assert sent == int(SECONDS * 10)
            assert wait_for(lambda: len(venue.got) >= sent and len(hub.got) >= sent, 30)
            venue.close()
            hub.close()
    finally:
        shutil.rmtree(folder.parent, ignore_errors=True)
    assert len(venue.got) == sent and len(hub.got) == sent
    hr_seen = []
    for topic, payload in venue.got + hub.got:
        assert topic == "owl/a1/features"
        doc = check_message(payload)  # only the documented keys, only scalars
        assert set(doc) == set(MESSAGE_KEYS)
        assert len(payload) < 2048, "a features message is small: no waveform fits"
        lower = payload.lower()
        assert not any(name.lower().encode() in lower for name in NAMES), "a name left the venue"
        for p in doc["participants"].values():
            assert set(p) == set(PARTICIPANT_KEYS)
            if p["heart_rate"] is not None:
                hr_seen.append(p["heart_rate"])
        assert not any(isinstance(x, list) for x in json.loads(payload).values())
    assert len(doc["participants"]) == 3
    assert hr_seen and 40 < np.median(hr_seen) < 140  # the features are real, not empty
