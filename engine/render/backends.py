"""Two render backends behind one interface, chosen once per renderer.

A GPU draws points and geometry-shader ribbons for next to nothing and filters float16
targets fast. Software GL (llvmpipe) pays about 0.3 µs of set-up per GL point or line on
the calling thread, so there particles are splatted and strands drawn by Numba into a
float32 canvas that becomes the HDR target's starting image, and the bloom starts at
quarter resolution. Everything a backend decides is here: the default drawing path of each
layer type, the HDR target's format and the bloom's start. A layer's `path` may still name
another path (any backend can draw any path); a misspelt one is an error.
"""

from __future__ import annotations

import moderngl

from engine.layers import ParticleLayer, StrandLayer
from engine.render.cpu_drawers import CpuLineDrawer, SplatDrawer
from engine.render.drawers import LineDrawer, PointDrawer, RibbonDrawer
from engine.render.post import Bloom
from engine.render.shaders import ShaderCache

# layer type → {path name: drawer class}; "auto" is the backend's default
PATHS: dict[type, dict[str, type]] = {
    StrandLayer: {"ribbons": RibbonDrawer, "lines": LineDrawer, "cpu": CpuLineDrawer},
    ParticleLayer: {"points": PointDrawer, "splat": SplatDrawer},
}
SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swrast", "lavapipe")


def path_of(layer, default: str) -> str:
    """The drawing path `layer.path` names ("auto": `default`); a value that names no path
    raises ValueError listing the allowed ones."""
    allowed = PATHS[type(layer)]
    path = getattr(layer, "path", "auto")
    if path == "auto":
        return default
    if path not in allowed:
        names = ", ".join(repr(p) for p in ("auto", *allowed))
        raise ValueError(f"{type(layer).__name__}.path is {path!r}; expected one of {names}")
    return path


class Backend:
    """What differs between GPU and software GL; subclasses set the class attributes."""

    name = ""
    hdr_dtype = "f2"  # the per-view HDR target
    quarter_bloom = False  # the bloom's threshold pass at quarter (not half) resolution
    defaults: dict[type, str] = {}  # layer type → path for layer.path == "auto"

    def __init__(self, ctx: moderngl.Context, shaders: ShaderCache) -> None:
        self.ctx, self.shaders = ctx, shaders

    def path(self, layer) -> str:
        return path_of(layer, self.defaults[type(layer)])

    def drawer(self, layer):
        """A new drawer for `layer` on the path it takes here."""
        return PATHS[type(layer)][self.path(layer)](self.ctx, self.shaders, layer)

    def hdr_texture(self, size: tuple[int, int]) -> moderngl.Texture:
        hdr = self.ctx.texture(size, 4, dtype=self.hdr_dtype)
        hdr.repeat_x = hdr.repeat_y = False
        return hdr

    def bloom(self, size: tuple[int, int], levels: int) -> Bloom:
        return Bloom(self.ctx, self.shaders, size, levels, quarter=self.quarter_bloom)


class GpuBackend(Backend):
    """Point sprites and geometry-shader ribbons into a float16 target; bloom from half size."""

    name = "gpu"
    defaults = {StrandLayer: "ribbons", ParticleLayer: "points"}


class SoftwareBackend(Backend):
    """CPU splat and CPU lines into a float32 canvas uploaded as the float32 HDR target's
    starting image; bloom from quarter size."""

    name = "software"
    hdr_dtype = "f4"
    quarter_bloom = True
    defaults = {StrandLayer: "cpu", ParticleLayer: "splat"}


BACKENDS = {b.name: b for b in (GpuBackend, SoftwareBackend)}


def is_software(ctx: moderngl.Context) -> bool:
    """True on a software rasteriser (llvmpipe, softpipe, swrast, lavapipe)."""
    name = ctx.info.get("GL_RENDERER", "unknown").lower()
    return any(s in name for s in SOFTWARE_RENDERERS)


def choose_backend(ctx: moderngl.Context, shaders: ShaderCache, name: str = "auto") -> Backend:
    """The backend `name` ("gpu", "software"), or for "auto" the one that suits this GL."""
    if name == "auto":
        name = "software" if is_software(ctx) else "gpu"
    if name not in BACKENDS:
        raise ValueError(f"render backend {name!r}; expected 'auto', 'gpu' or 'software'")
    return BACKENDS[name](ctx, shaders)
