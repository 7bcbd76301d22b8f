"""Where frames go: video files, PNG images, windows."""

from engine.outputs.image import load_png, save_png
from engine.outputs.video import VideoError, VideoWriter

__all__ = ["VideoError", "VideoWriter", "load_png", "save_png"]
