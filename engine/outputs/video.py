"""H.264 MP4 writing with PyAV, encoded on a background thread so rendering and encoding
overlap on the two cores. Frames pass through a small ring of preallocated buffers.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


class VideoError(RuntimeError):
    pass


class VideoWriter:
    """Writes RGBA frames to an MP4 (H.264, yuv420p for every player).

    The file appears under its final name only after `close()` succeeds, so a crash or an
    abort never leaves a truncated file that looks complete.
    """

    def __init__(self, path: str | Path, size: tuple[int, int], fps: float, *,
                 crf: int = 18, preset: str = "veryfast", buffers: int = 4) -> None:
        w, h = size
        if w % 2 or h % 2:
            raise VideoError("video width and height must be even numbers (H.264 yuv420p)")
        self.path = Path(path)
        self.partial = self.path.with_name(f".{self.path.stem}.partial{self.path.suffix or '.mp4'}")
        self.container = av.open(str(self.partial), mode="w", format="mp4")
        rate = Fraction(fps).limit_denominator(1001)
        self.stream = self.container.add_stream("libx264", rate=rate)
        self.stream.width, self.stream.height = w, h
        self.stream.pix_fmt = "yuv420p"
        self.stream.options = {"crf": str(crf), "preset": preset}
        self.frames = 0
        self._free: queue.Queue[np.ndarray] = queue.Queue()
        for _ in range(buffers):
            self._free.put(np.empty((h, w, 4), np.uint8))
        self._full: queue.Queue[np.ndarray | None] = queue.Queue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._encode_loop, name="video-encoder", daemon=True)
        self._thread.start()

    def buffer(self) -> np.ndarray:
        """A free (h, w, 4) buffer to render into; blocks while the encoder is behind."""
        self._raise_if_failed()
        return self._free.get()

    def submit(self, buffer: np.ndarray) -> None:
        """Queue a filled buffer (top row first) for encoding."""
        self._raise_if_failed()
        self._full.put(buffer)

    def _encode_loop(self) -> None:
        try:
            while (buf := self._full.get()) is not None:
                frame = av.VideoFrame.from_ndarray(buf, format="rgba")
                self._free.put(buf)
                frame.pts = self.frames
                for packet in self.stream.encode(frame):
                    self.container.mux(packet)
                self.frames += 1
            for packet in self.stream.encode():
                self.container.mux(packet)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the main thread
            self._error = exc
            # hand buffers back so a producer blocked in buffer() wakes up and sees the error
            while (buf := self._full.get()) is not None:
                self._free.put(buf)

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise VideoError(f"video encoding failed: {self._error}") from self._error

    def close(self) -> Path:
        self._full.put(None)
        self._thread.join()
        self.container.close()
        self._raise_if_failed()
        os.replace(self.partial, self.path)
        return self.path

    def abort(self) -> None:
        self._full.put(None)
        self._thread.join(timeout=10)
        with contextlib.suppress(Exception):  # the file is discarded anyway
            self.container.close()
        self.partial.unlink(missing_ok=True)
