"""The Numba solver: flow field, particles and braided strands on float32 arrays."""

from engine.solver.field import FlowField
from engine.solver.particles import ParticleSolver
from engine.solver.strands import StrandSolver

__all__ = ["FlowField", "ParticleSolver", "StrandSolver"]
