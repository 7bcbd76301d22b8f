"""Monitors that come and go during a show.

When an output's monitor is unplugged, the output moves to a window on a remaining monitor
(so the show goes on and the operator sees it) and the move is reported; when a monitor of
the same name comes back, the output returns to it as it was (full screen or not).
"""

from __future__ import annotations

import ctypes
import logging

import glfw

log = logging.getLogger("symphony.monitors")


def monitor_name(monitor) -> str:
    name = glfw.get_monitor_name(monitor)
    return name.decode(errors="replace") if isinstance(name, bytes) else str(name)


class Hotplug:
    def __init__(self, outputs: list) -> None:
        self.outputs = outputs
        self.homeless: dict[str, bool] = {}  # output name -> was it full screen at home
        self.events: list[str] = []  # reports, newest last (the operator sees them)
        self._changed = False
        glfw.set_monitor_callback(self._on_monitor)

    def _on_monitor(self, monitor, event) -> None:
        if event == glfw.DISCONNECTED:  # its handle dies with it: forget it now
            gone = _address(monitor)
            for out in self.outputs:
                if out.monitor is not None and _address(out.monitor) == gone:
                    out.monitor = None
        self._changed = True  # handled after the events, once the monitor list has settled

    def poll(self) -> list[str]:
        """Re-home outputs after monitor changes; returns new reports."""
        if not self._changed:
            return []
        self._changed = False
        present = {monitor_name(m): m for m in glfw.get_monitors() or []}
        reports = []
        for out in self.outputs:
            home = out.home_monitor_name
            if home not in present and out.name not in self.homeless:
                if not present:
                    reports.append(f"output '{out.name}': monitor {home} is gone and no monitor is left")
                    continue
                self.homeless[out.name] = out.fullscreen
                fallback_name, fallback = next(iter(present.items()))
                out.move_to(fallback, fullscreen=False)
                reports.append(f"output '{out.name}': monitor {home} disconnected; "
                               f"moved to a window on {fallback_name}")
            elif home in present and out.name in self.homeless:
                out.move_to(present[home], self.homeless.pop(out.name))
                reports.append(f"output '{out.name}': monitor {home} is back; output returned")
            elif home in present:
                out.monitor = present[home]  # handles change when the list is rebuilt
        for r in reports:
            log.warning("%s", r)
        self.events += reports
        return reports

    def close(self) -> None:
        glfw.set_monitor_callback(None)


def _address(monitor) -> int:
    return ctypes.cast(monitor, ctypes.c_void_p).value or 0
