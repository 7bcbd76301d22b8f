"""Video and frame writing with PyAV, encoded on a background thread so rendering and encoding
overlap on the two cores; H.264/HEVC frames become yuv420p on that thread too (outputs/yuv.py,
cheaper than PyAV's libswscale). Frames pass through a small ring of preallocated buffers. The
format follows the output's suffix (engine/outputs/formats.py): H.264 or HEVC MP4, ProRes 4444
with alpha, FFV1 lossless, PNG frames.
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

from engine.outputs.formats import Format, FormatError, choose_format
from engine.outputs.yuv import Yuv420p

# Encoder threads with a fixed GOP (cluster renders). One: the same stream on every machine and
# every run. With 4, x264 ran sliced threads with a threaded lookahead, and the first packet of
# a later GOP differed in 2 of 5 runs of identical frames (the farm test's flake); the workers
# give the parallelism instead.
GOP_THREADS = 1


def _unique() -> str:
    """A name part no other writer (thread, process, machine) uses at the same time."""
    return f"{os.getpid()}-{threading.get_ident()}-{os.urandom(4).hex()}"


class VideoError(RuntimeError):
    pass


class VideoWriter:
    """Writes RGBA frames to a video file or numbered PNG frames, by the output's suffix.

    The output appears under its final name only after `close()` succeeds, so a crash or an
    abort never leaves a truncated file that looks complete.
    """

    convert_yuv = True  # False hands RGBA to PyAV's libswscale (benchmarks/offline.py's baseline)

    def __init__(self, path: str | Path, size: tuple[int, int], fps: float, *,
                 crf: int = 18, preset: str = "veryfast", buffers: int = 4,
                 codec: str | None = None, gop: int | None = None, first_frame: int = 0) -> None:
        w, h = size
        self.path = Path(path)
        self.format: Format = self.check(self.path, size, codec)
        self.frames = 0
        if self.format.container is None:
            self._frames_dir = _FrameFolder(self.path, first_frame)
        else:
            self._frames_dir = None
            # unique per writer: a segment retried while a worker thought dead still writes
            # cannot mix its packets into this file (the last complete one is moved in place)
            self.partial = self.path.with_name(f".{self.path.stem}.{_unique()}.partial{self.path.suffix}")
            self.container = av.open(str(self.partial), mode="w", format=self.format.container)
            rate = Fraction(fps).limit_denominator(1001)
            self.stream = self.container.add_stream(self.format.codec, rate=rate)
            self.stream.width, self.stream.height = w, h
            self.stream.pix_fmt = self.format.pix_fmt
            options = dict(self.format.options)
            if self.format.uses_crf:
                options |= {"crf": str(crf), "preset": preset}
            if gop is not None:  # a keyframe every `gop` frames, and only there
                self.stream.codec_context.gop_size = gop
                # x264's choices depend on its thread count, by default the machine's cores: a
                # fixed count gives the same stream on every machine of a cluster
                self.stream.codec_context.thread_count = GOP_THREADS
                if self.format.codec == "libx264":
                    options["x264-params"] = f"keyint={gop}:min-keyint={gop}:scenecut=0"
                elif self.format.codec == "libx265":  # x265 sizes its frame threads by the cores too
                    options["x265-params"] = (f"{options.get('x265-params', 'log-level=error')}:keyint={gop}:"
                                              f"min-keyint={gop}:scenecut=0:frame-threads={GOP_THREADS}")
            self.stream.options = options
        # H.264/HEVC: planes converted here (nogil) rather than by libswscale inside PyAV
        planar = self.format.pix_fmt == "yuv420p" and not self.format.alpha
        self._yuv = Yuv420p(size) if planar and self.convert_yuv else None
        self._free: queue.Queue[np.ndarray] = queue.Queue()
        for _ in range(buffers):
            self._free.put(np.empty((h, w, 4), np.uint8))
        self._full: queue.Queue[np.ndarray | None] = queue.Queue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._encode_loop, name="video-encoder", daemon=True)
        self._thread.start()

    @staticmethod
    def check(path: str | Path, size: tuple[int, int], codec: str | None = None) -> Format:
        """The format for this output, or a VideoError saying why there is none."""
        try:
            fmt = choose_format(path, codec)
        except FormatError as exc:
            raise VideoError(str(exc)) from None
        if fmt.even_size and (size[0] % 2 or size[1] % 2):
            raise VideoError(f"video width and height must be even numbers ({fmt.name} yuv420p)")
        return fmt

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
                if self._frames_dir is not None:
                    self._frames_dir.write(self.frames, buf)
                    self._free.put(buf)
                    self.frames += 1
                    continue
                if self._yuv is not None:
                    frame = av.VideoFrame.from_ndarray(self._yuv.convert(buf), format="yuv420p")
                else:
                    pixels = _light_over_alpha(buf) if self.format.alpha else buf
                    frame = av.VideoFrame.from_ndarray(pixels, format="rgba")
                self._free.put(buf)
                frame.pts = self.frames
                for packet in self.stream.encode(frame):
                    self.container.mux(packet)
                self.frames += 1
            if self._frames_dir is None:
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
        if self._frames_dir is not None:
            self._raise_if_failed()
            return self._frames_dir.publish()
        self.container.close()
        self._raise_if_failed()
        os.replace(self.partial, self.path)
        return self.path

    def abort(self) -> None:
        self._full.put(None)
        self._thread.join(timeout=10)
        if self._frames_dir is not None:
            self._frames_dir.discard()
            return
        with contextlib.suppress(Exception):  # the file is discarded anyway
            self.container.close()
        self.partial.unlink(missing_ok=True)


def _light_over_alpha(rgba: np.ndarray) -> np.ndarray:
    """Black is transparent: alpha = the brightest channel, colour un-premultiplied by it."""
    rgb = rgba[..., :3]
    alpha = rgb.max(axis=2)
    out = np.empty_like(rgba)
    scale = 255.0 / np.maximum(alpha, 1).astype(np.float32)
    np.copyto(out[..., :3], np.minimum(np.rint(rgb * scale[..., None]), 255.0), casting="unsafe")
    out[..., 3] = alpha
    return out


class _FrameFolder:
    """Numbered PNG frames, written into a hidden folder beside them and moved into place
    only when every frame made it (the same promise as the video files)."""

    def __init__(self, pattern: Path, first_frame: int = 0) -> None:
        self.pattern = pattern
        self.first_frame = first_frame
        self.folder = pattern.parent
        if not self.folder.is_dir():
            raise VideoError(f"cannot write {pattern}: folder {self.folder} does not exist")
        self.partial = self.folder / f".{pattern.name.replace('%', '_')}.{first_frame}.{_unique()}.partial"
        self.partial.mkdir(exist_ok=True)
        self.names: list[str] = []

    def write(self, index: int, rgba: np.ndarray) -> None:
        from PIL import Image

        name = self.pattern.name % (self.first_frame + index)
        Image.fromarray(rgba, "RGBA").save(self.partial / name, compress_level=1)
        self.names.append(name)

    def publish(self) -> Path:
        for name in self.names:
            os.replace(self.partial / name, self.folder / name)
        self.partial.rmdir()
        return self.pattern

    def discard(self) -> None:
        for name in self.names:
            (self.partial / name).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.partial.rmdir()
