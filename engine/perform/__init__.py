"""Perform mode: an operator console, OSC remote control, cues, failover and crash recovery
on top of a venue show (engine.venue). Every operator action goes through one dispatch
(engine.perform.actions) so keys, OSC, cues and show recordings share it."""
