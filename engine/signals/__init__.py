"""Signal features for scenes: see `engine.signals.core.Signals`."""

from engine.signals.breath import BreathTracker, Respiration
from engine.signals.cardiac import EcgBeats, PpgBeats
from engine.signals.core import Signals
from engine.signals.eda import EdaTracker
from engine.signals.ring import Ring

__all__ = ["BreathTracker", "EcgBeats", "EdaTracker", "PpgBeats", "Respiration", "Ring", "Signals"]
