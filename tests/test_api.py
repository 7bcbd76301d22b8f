"""The artist's surface: a cheap, side-effect-free `import engine`, and a sealed Scene."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import engine
from engine.scene import RESERVED, Scene, SceneError, load_scene_class
from tests.conftest import ROOT, run_cli

HEAVY = ("moderngl", "av", "glfw", "numba", "llvmlite", "engine.solver", "engine.render",
         "engine.signals", "engine.outputs", "engine.kernel_cache")


def _child(code: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def _imported(stderr: str) -> list[str]:
    """Module names from `-X importtime` lines (`import time: self | cumulative | name`)."""
    return [line.rsplit("|", 1)[1].strip() for line in stderr.splitlines()
            if line.startswith("import time:") and line.count("|") == 2][1:]  # [0]: the header


def test_import_engine_loads_no_gl_video_or_kernels_and_changes_nothing():
    res = _child("import os, engine; print(os.environ.get('OMP_WAIT_POLICY'))")
    assert res.returncode == 0, res.stderr
    modules = _imported(res.stderr)
    assert "engine" in modules  # the parse found the import itself
    heavy = [m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY)]
    assert heavy == []
    assert res.stdout.strip() == "None"  # the OpenMP policy is a runner's business


def test_post_settings_need_no_gl():
    res = _child("from engine import PostSettings; PostSettings(exposure=2.0)")
    assert res.returncode == 0, res.stderr
    assert not [m for m in _imported(res.stderr) if m.startswith(("moderngl", "engine.render"))]


def test_every_public_name_loads_on_first_use():
    for name in engine.__all__:
        assert getattr(engine, name) is not None, name
    assert set(engine.__all__) <= set(dir(engine))
    with pytest.raises(AttributeError, match="no attribute 'Strand'"):
        engine.Strand  # noqa: B018 - a typo is an AttributeError, as for any module


def test_render_runner_sets_the_openmp_policy():
    res = _child("import os\nfrom engine import render_array\n"
                 "render_array('symphony', 1, (32, 18))\nprint(os.environ.get('OMP_WAIT_POLICY'))")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == "PASSIVE"


@pytest.mark.parametrize("name", ["step", "apply_bindings", "param_state", "add"])
def test_a_scene_defining_a_reserved_name_is_refused_at_load(tmp_path, name):
    path = tmp_path / "greedy.py"
    path.write_text("from engine import Scene\n\n\nclass Greedy(Scene):\n"
                    f"    def {name}(self, *args):\n        pass\n")
    with pytest.raises(SceneError) as err:
        load_scene_class(str(path))
    message = str(err.value)
    assert message.startswith("greedy.py: Greedy defines `" + name + "`")
    assert "reserve" in message and RESERVED[name] in message and "\n" not in message


def test_the_cli_refuses_a_scene_defining_step_in_one_line(tmp_path):
    path = tmp_path / "stepper.py"
    path.write_text("from engine import Scene\n\n\nclass Stepper(Scene):\n"
                    "    def step(self, dt):\n        pass\n")
    res = run_cli("render", str(path), "-o", str(tmp_path / "out.mp4"), "--seconds", "0.1",
                  "--size", "32x18")
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Stepper defines `step`" in lines[0] and "simulation" in lines[0]
    assert not (tmp_path / "out.mp4").exists()


def test_a_scene_class_written_in_code_is_checked_too():
    with pytest.raises(SceneError, match="`_params`"):
        type("Sneaky", (Scene,), {"_params": {}})
    assert not hasattr(Scene, "step") and not hasattr(Scene, "apply_bindings")


def test_group_means_read_a_documented_default_until_a_channel_arrives():
    import pickle

    from engine.data import Group

    g = Group()
    assert g.mean["saliva_ph"] == pytest.approx(6.5) and g.spread["saliva_ph"] == 0.0
    g.mean["saliva_ph"] = 5.2
    assert g.mean["saliva_ph"] == 5.2 and g.mean.get("heart_rate") is None  # .get: only what arrived
    with pytest.raises(KeyError, match="did you mean 'saliva_ph'"):
        g.mean["saliva_pH"]
    again = pickle.loads(pickle.dumps(g))  # show checkpoints pickle frames' groups
    assert again.mean["saliva_ph"] == 5.2 and again.mean["biofilm"] == pytest.approx(0.5)
    assert Group(mean={"eda": 3.0}).mean["oral_temp"] == pytest.approx(36.0)
    assert g.mean["eda_phasic"] == 0.0  # derived values read 0 until known


def test_binding_a_misspelt_channel_warns_once_naming_the_closest(caplog):
    from engine import Param

    class Bound(Scene):
        glow = Param(0.5)

    scene = Bound(seed=0)
    with caplog.at_level("WARNING", logger="symphony"):
        scene.bind("glow", "saliva_pHH", (5.0, 8.0))
        scene.bind("glow", "saliva_pHH", (5.0, 8.0))
        scene.bind("glow", "saliva_ph", (5.0, 8.0))
        scene.bind("glow", "eda_phasic", (0.0, 1.0))  # derived by the signals: a real name
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 1 and "did you mean 'saliva_ph'" in warned[0], warned


def test_reading_a_misspelt_participant_channel_warns_once_naming_the_closest(caplog):
    from engine.data import Participant

    p = Participant("p01", 0, {"saliva_ph": 6.8}, {}, 0.0, 0, 0.0, 0.0, 12.0)
    with caplog.at_level("WARNING", logger="symphony"):
        assert p.get("saliva_ph") == pytest.approx(6.8)
        assert p.get("oral_temp", 36.5) == 36.5  # a real channel not here yet: quiet default
        assert p.get("saliva_pH", 7.0) == 7.0 and p.get("saliva_pH", 7.0) == 7.0
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 1 and "p.get('saliva_pH')" in warned[0], warned
    assert "did you mean 'saliva_ph'" in warned[0]


def test_clear_data_names_and_the_old_ones_warn_once_each():
    import warnings

    from engine.clock import FixedClock
    from engine.data import _renamed
    from engine.runtime import Show
    from engine.sources import open_source

    _renamed.clear()
    show = Show(Scene(), open_source("synthetic:participants=3,seed=2"), FixedClock(30))
    frames = [show.advance() for _ in range(60)]
    people = frames[-1].participants
    assert max(p.beat_count for p in people) >= 1  # two seconds: a beat or more each
    assert all(0.0 <= p.pulse <= 1.0 for p in people)
    assert any(p.pulse > 0.0 for f in frames for p in f.participants)
    p, frame = people[0], frames[-1]
    with pytest.warns(FutureWarning, match=r"Participant\.beat is deprecated.*Participant\.pulse"):
        assert p.beat == p.pulse
    with pytest.warns(FutureWarning, match=r"Participant\.beats is deprecated.*beat_count"):
        assert p.beats == p.beat_count
    with pytest.warns(FutureWarning, match=r"frame\.glitches is deprecated.*frame\.glitch\.count"):
        assert frame.glitches == frame.glitch.count == 0
    with pytest.warns(FutureWarning, match=r"frame\.glitch as a number.*frame\.glitch\.level"):
        assert 0.5 * frame.glitch == 0.0 and float(frame.glitch) == frame.glitch.level
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once each
        assert p.beat == p.pulse and p.beats == p.beat_count and frame.glitch <= 1.0


def test_one_option_parser_with_one_rule_for_booleans():
    """Source specs and layout specs split and read booleans the same way (engine.options):
    `maybe` is an error in both, where a layout used to read it as off."""
    from engine.options import split_options, to_bool
    from engine.render.layouts import LayoutError, parse_layout
    from engine.sources import SourceError, open_source
    from engine.sources.mqtt import MqttSource
    from engine.sources.spec import parse_spec

    assert [to_bool(v) for v in ("1", "TRUE", " yes", "on")] == [True] * 4
    assert [to_bool(v) for v in ("0", "false", "No", "off", "")] == [False] * 5
    with pytest.raises(ValueError):
        to_bool("maybe")
    assert split_options("8x6, cone=40", "layout 'q'", positional=1) == (["8x6"], {"cone": "40"})
    with pytest.raises(ValueError, match="option 'cone' given twice"):
        split_options("cone=1,cone=2", "x")
    assert parse_spec("mqtt://127.0.0.1:1883/a/%23?tls=yes") == (
        "mqtt", {"host": "127.0.0.1", "port": "1883", "topic": "a/#", "tls": "yes"})
    with pytest.raises(SourceError, match="option 'tls' expects bool, got 'maybe'"):
        open_source("mqtt://127.0.0.1:1883/a?tls=maybe")
    assert MqttSource.options["tls"] is bool
    assert parse_layout("sbs:squeeze=YES").squeeze and not parse_layout("sbs:squeeze=off").squeeze
    with pytest.raises(LayoutError, match="squeeze must be 1/true/yes/on or 0/false/no/off, not 'maybe'"):
        parse_layout("sbs:squeeze=maybe")
    with pytest.raises(LayoutError, match=r"layout 'sbs:colour=1': unknown option 'colour'"):
        parse_layout("sbs:colour=1")


def test_dead_code_and_test_fixtures_are_out_of_the_package():
    import engine.solver.field
    import engine.sources
    import engine.sources.base

    assert not hasattr(engine.sources.base, "parse_options") and "parse_options" not in engine.sources.__all__
    assert not hasattr(engine.solver.field, "sample_field")
    assert not (ROOT / "engine" / "sources" / "mosquitto.py").exists()
    assert (ROOT / "tests" / "mosquitto.py").is_file()


def test_the_cheat_sheet_lists_the_whole_surface_on_one_screen():
    from engine.knobs import Knob
    from engine.layers import ParticleLayer, StrandLayer

    sheet = engine.__doc__
    lines = sheet.splitlines()
    assert len(lines) <= 60 and max(map(len, lines)) <= 110  # one screen of a terminal
    missing = [name for name in engine.__all__ if name not in sheet]
    for layer in (StrandLayer, ParticleLayer):
        missing += [f".{n}" for n, v in vars(layer).items() if isinstance(v, Knob) and f".{n}" not in sheet]
    missing += [n for n in ("pulse", "beat_count", "glitch.level", "glitch.count", ".fade_in",
                            ".fade_out", ".follow_participants", "phase=") if n not in sheet]
    assert missing == []
