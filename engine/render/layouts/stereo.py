"""Off-axis stereo: `sbs[:eye=0.064,scale=U,squeeze=1]` and `anaglyph[:eye=0.064,scale=U]`.

Each eye is the camera slid ±separation/2 sideways with a sheared frustum (the near-plane
window moves by ∓(sep/2)·near/focus), so both eyes share the focal plane through the target:
objects there have zero disparity. `eye` is the eye separation in metres; `scale` is scene
units per metre, by default distance / 1.92 — the focal plane is put at a 1.92 m viewing
distance, i.e. the stereographers' 1/30 rule (separation = focal distance / 30).
"""

from __future__ import annotations

import moderngl
import numpy as np

from engine.render.layouts.base import Offscreen, Options, Pass

EYE_METRES = 0.064
VIEWING_DISTANCE_M = 1.92

# Dubois' least-squares red–cyan matrices (rows: output R, G, B), for linear RGB
DUBOIS_LEFT = np.array([[0.437, 0.449, 0.164], [-0.062, -0.062, -0.024], [-0.048, -0.050, -0.017]])
DUBOIS_RIGHT = np.array([[-0.011, -0.032, -0.007], [0.377, 0.761, 0.009], [-0.026, -0.093, 1.234]])

_LEFT = DUBOIS_LEFT.T.astype(np.float32).tobytes()
_RIGHT = DUBOIS_RIGHT.T.astype(np.float32).tobytes()


class _Stereo:
    name = "stereo"

    def __init__(self, eye: float = EYE_METRES, scale: float | None = None) -> None:
        self.eye = eye
        self.scale = scale

    @staticmethod
    def _options(spec: str, extra: tuple[str, ...] = ()) -> tuple[Options, dict]:
        opts = Options(spec, ("eye", "scale", *extra))
        return opts, {"eye": opts.number("eye", EYE_METRES, 0.0, 10.0),
                      "scale": opts.number("scale", None, 1e-6, 1e6)}

    def separation(self, camera) -> float:
        """Eye separation in scene units."""
        scale = self.scale if self.scale is not None else camera.distance / VIEWING_DISTANCE_M
        return self.eye * scale

    def eyes(self, camera, aspect: float) -> list[tuple[np.ndarray, np.ndarray]]:
        """(view, proj) of the left and the right eye."""
        half = 0.5 * self.separation(camera)
        return [camera.shifted(-half, aspect), camera.shifted(half, aspect)]


class SideBySideLayout(_Stereo):
    """Left eye in the left half, right eye in the right half. `squeeze=1` gives half-width
    SBS for 3D TVs and projectors, which stretch each half back to the full width."""

    name = "sbs"

    def __init__(self, eye: float = EYE_METRES, scale: float | None = None, squeeze: bool = False) -> None:
        super().__init__(eye, scale)
        self.squeeze = squeeze

    @classmethod
    def from_spec(cls, spec: str) -> SideBySideLayout:
        opts, kw = cls._options(spec, ("squeeze",))
        return cls(squeeze=opts.flag("squeeze"), **kw)

    def render(self, renderer, scene, target: moderngl.Framebuffer, size: tuple[int, int],
               flip_y: bool) -> None:
        w, h = size
        half = w // 2
        rects = [(0, 0, half, h), (half, 0, w - half, h)]
        aspect = w / h if self.squeeze else half / h
        for eye, ((view, proj), rect) in enumerate(zip(self.eyes(scene.camera, aspect), rects,
                                                       strict=True)):
            renderer.render_view(scene, view, proj, target, rect, flip_y, view_index=eye)


class AnaglyphLayout(_Stereo):
    """Red–cyan glasses: both eyes rendered offscreen, mixed by Dubois' matrices in linear
    light (decoded from the display encoding first), then encoded again."""

    name = "anaglyph"

    def __init__(self, eye: float = EYE_METRES, scale: float | None = None) -> None:
        super().__init__(eye, scale)
        self.images = (Offscreen("f2", nearest=True), Offscreen("f2", nearest=True))
        self.combine = Pass("layout_anaglyph.glsl")

    @classmethod
    def from_spec(cls, spec: str) -> AnaglyphLayout:
        return cls(**cls._options(spec)[1])

    def render(self, renderer, scene, target: moderngl.Framebuffer, size: tuple[int, int],
               flip_y: bool) -> None:
        ctx = renderer.ctx
        full = (0, 0, size[0], size[1])
        for eye, ((view, proj), image) in enumerate(zip(self.eyes(scene.camera, size[0] / size[1]),
                                                        self.images, strict=True)):
            renderer.render_view(scene, view, proj, image.get(ctx, size), full, False,
                                 view_index=eye)
        combine = self.combine.bind(renderer)
        for unit, image in enumerate(self.images):
            image.texture.use(unit)
        # GLSL mat3 is column-major: the transpose's rows are the matrix's columns
        for name, value in (("u_left", 0), ("u_right", 1), ("u_left_matrix", _LEFT),
                            ("u_right_matrix", _RIGHT), ("u_flip_y", int(flip_y))):
            combine.set(name, value)
        combine.draw(target, full)
