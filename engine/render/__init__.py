"""ModernGL rendering: shader loading, two backends (GPU; software GL) with their layer drawers,
HDR post and the frame renderer."""

from engine.render.post import PostSettings
from engine.render.renderer import Renderer, headless_context
from engine.render.shaders import ShaderError, build_program

__all__ = ["PostSettings", "Renderer", "ShaderError", "build_program", "headless_context"]
