"""Venues: several outputs (projectors, holographic displays) from one show, each mapped onto
its surface, described by one TOML file. See `config` for the file, `show` for the loop."""

from engine.venue.config import (
    PERFORM_SECTIONS,
    Blend,
    Mask,
    OutputSpec,
    Venue,
    VenueError,
    default_venue,
    load_venue,
    parse_venue,
)

__all__ = ["PERFORM_SECTIONS", "Blend", "Mask", "OutputSpec", "Venue", "VenueError", "default_venue",
           "load_venue", "parse_venue"]
