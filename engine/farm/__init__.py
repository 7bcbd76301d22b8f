"""Rendering a show in segments, on this machine or a Dask cluster, frame-exact.

A simulate-only pass (no drawing: the cheap half of a frame) runs the whole show once and
keeps a checkpoint of its complete state (scene, layers, solver, signals, source position,
parameters, random generators: the pickled `Show`) at each segment's start. Segments then
render anywhere from their checkpoints, each in its own headless GL context, and are joined
without re-encoding. See `checkpoints.py`, `segments.py` and `cluster.py`.
"""
