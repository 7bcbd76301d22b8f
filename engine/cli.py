"""The command line: one argument parser shared by `run_symphony.py` and `symphony`.

    symphony render SCENE -o OUT.mp4 [--seconds S] [--fps F] [--size WxH] [--source SRC] [--seed N]
    symphony show SCENE [--fullscreen] [--monitor N] [--size WxH] [--source SRC] [--frames N] [--record X.xdf]
    symphony show SCENE --venue VENUE.toml [--pattern grid|white|ramp] [--screenshot DIR]
    symphony perform VENUE.toml [--state FILE] [--log FILE] [--scene S] [--source SRC] [--record X.xdf]
    symphony record --source SRC -o session.xdf [--seconds S]
    symphony inspect FILE [--json]
    symphony erase FILE --participant ID -o CLEAN.xdf
    symphony list
    symphony relay --source SRC --publish URL       (engine/network: the Oral Wellness Network)
    symphony network init DIR --alcoves a1,a2  |  symphony network up DIR
    symphony new NAME [--dir DIR]

Usage errors and failures print one line (`symphony: error: ...`) and exit non-zero.
"""

from __future__ import annotations

import argparse
import ast
import logging
import os
import sys
from pathlib import Path
from typing import NoReturn

from engine.outputs.formats import CODECS

EXIT_FAILURE = 1
EXIT_USAGE = 2


class CliError(Exception):
    """A problem the user can fix; printed as one line."""


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line and a pointer to --help, not a screenful of usage first."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 1280x720, got '{text}'") from None
    if not (16 <= w <= 16384 and 16 <= h <= 16384):
        raise argparse.ArgumentTypeError(f"size {w}x{h} is out of range (16..16384 per side)")
    return w, h


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got '{text}'")
    return value


def render_scale(text: str) -> float:
    value = positive_float(text)
    if not 0.1 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected 0.1 to 1, got '{text}'")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got '{text}'")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="symphony", description="Symphony: live health data as a luminous tapestry.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(p: argparse.ArgumentParser, default_size: str) -> None:
        p.add_argument("scene", help="scene name in scenes/ or path to a scene .py file")
        p.add_argument("--size", type=parse_size, default=parse_size(default_size),
                       metavar="WxH", help=f"frame size in pixels (default {default_size})")
        p.add_argument("--source", default="synthetic", metavar="SRC",
                       help="data source spec, e.g. synthetic:participants=12,seed=3")
        p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        p.add_argument("--layout", default="flat", metavar="SPEC",
                       help="output layout: flat, pyramid, quilt:8x6, lenticular:CAL.json, sbs, anaglyph")
        p.add_argument("--render-scale", type=render_scale, default=1.0, metavar="F",
                       help="draw at F (0.1..1) of the size and upscale: sharpness for frame rate")
        p.add_argument("--publish", metavar="URL",
                       help="publish this Alcove's features to the network (DIR/<alcove>/publish.url; @FILE)")

    render = sub.add_parser("render", help="render headless to video (.mp4 .mov .mkv) or PNG frames")
    common(render, "1280x720")
    render.add_argument("-o", "--output", metavar="OUT.mp4", help="video file (not needed by a --lead)")
    render.add_argument("--seconds", type=positive_float,
                        help="length (default 10, or to the end of a replayed recording)")
    render.add_argument("--from", dest="start", type=float, default=0.0, metavar="S",
                        help="start S seconds into the show (simulated up to there, drawn from there)")
    render.add_argument("--to", dest="stop", type=positive_float, metavar="S",
                        help="stop S seconds into the show")
    render.add_argument("--timing", choices=("fixed", "show"), default="fixed",
                        help="fixed: a steady --fps (default); show: a recorded show frame by frame, "
                             "with its own clock ticks, data and operator actions")
    render.add_argument("--fps", type=positive_float, default=30.0, help="frame rate (default 30)")
    render.add_argument("--no-progress", action="store_true", help="print no progress")
    render.add_argument("--wait", type=positive_float, default=10.0, metavar="S",
                        help="a live source (osc, mqtt, lsl) that delivers nothing in S seconds "
                             "fails the render (default 10)")
    render.add_argument("--codec", choices=CODECS, help="h264 or hevc in .mp4 (default h264); "
                        ".mov is ProRes 4444 with alpha, .mkv FFV1 lossless, DIR/%%05d.png PNG frames")
    render.add_argument("--crf", type=int, default=18,
                        help="H.264/HEVC quality, lower is better (default 18)")
    render.add_argument("--preset", default="veryfast", help="H.264/HEVC speed preset (default veryfast)")
    render.add_argument("--gop", type=positive_int, help="a keyframe every N frames, and only there")
    render.add_argument("--workers", type=positive_int, metavar="N",
                        help="render on a local Dask cluster of N processes (frames equal a serial render)")
    render.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="render on a running Dask cluster")
    from engine.network.cli import add_node_options

    add_node_options(render)

    show = sub.add_parser("show", help="show live in a window or full screen")
    common(show, "1280x720")
    show.add_argument("--fullscreen", action="store_true", help="start full screen (F toggles)")
    show.add_argument("--monitor", type=int, default=0, help="monitor index (see 'list')")
    show.add_argument("--frames", type=positive_int, help="quit after N frames")
    show.add_argument("--seconds", type=positive_float, help="quit after S seconds")
    show.add_argument("--screenshot", metavar="PNG", help="save the last frame drawn as PNG")
    show.add_argument("--no-vsync", action="store_true", help="draw as fast as possible")
    show.add_argument("--record", metavar="XDF", help="record the source's data to an XDF file")
    show.add_argument("--venue", metavar="TOML", help="drive a venue's outputs (projectors, displays) "
                      "from a venue file; --screenshot is then a folder: DIR/<output>.png")
    show.add_argument("--pattern", choices=("grid", "white", "ramp"),
                      help="show a calibration pattern through each output's mapping (key P cycles)")
    show.add_argument("--output", dest="node", metavar="NAME", help="follower: this node's output name")
    add_node_options(show)
    show.set_defaults(source=None, seed=None)  # a venue's [show] values apply unless given

    perform = sub.add_parser("perform", help="run a show from a venue file with its operator console, "
                             "OSC control, cues and failover; restarted from --state if it dies")
    perform.add_argument("venue", help="venue file (.toml) with [[output]]s and perform sections")
    perform.add_argument("--scene", help="scene (default: the venue's [show] scene)")
    perform.add_argument("--source", help="data source spec (default: the venue's)")
    perform.add_argument("--seed", type=int, help="random seed (default: the venue's, or 0)")
    perform.add_argument("--state", default="symphony-show.state.json", metavar="FILE",
                         help="state file, written every 0.5 s; a restarted show resumes from it")
    perform.add_argument("--log", metavar="FILE", help="show log (default: the state file's name, .log)")
    perform.add_argument("--record", metavar="XDF", help="record the show (data, ticks, operator actions)")
    perform.add_argument("--frames", type=positive_int, help="quit after N frames")
    perform.add_argument("--seconds", type=positive_float, help="quit after S seconds")
    perform.add_argument("--no-vsync", action="store_true", help="draw as fast as possible")
    perform.add_argument("--resume", action="store_true", help="resume from the state file at start")
    perform.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    perform.add_argument("--restart", type=int, default=0, help=argparse.SUPPRESS)
    perform.add_argument("--standby", action="store_true", help=argparse.SUPPRESS)

    record = sub.add_parser("record", help="record a source to XDF (no window)")
    record.add_argument("--source", default="synthetic", metavar="SRC", help="data source spec")
    record.add_argument("-o", "--output", required=True, metavar="XDF", help="file to write")
    record.add_argument("--seconds", type=positive_float, help="stop after S seconds (default: Ctrl-C)")
    record.add_argument("--seed", type=int, default=0, help="random seed (default 0)")

    inspect = sub.add_parser("inspect", help="summarise a recording (.xdf, .csv, .edf, .bdf)")
    inspect.add_argument("file", help="recording to summarise")
    inspect.add_argument("--json", action="store_true", help="print JSON")

    erase = sub.add_parser("erase", help="copy a recording without one participant (consent withdrawn)")
    erase.add_argument("file", help="the recording (.xdf)")
    erase.add_argument("--participant", required=True, metavar="ID", help="pseudonym to erase")
    erase.add_argument("-o", "--output", required=True, metavar="XDF", help="the cleaned copy to write")

    sub.add_parser("list", help="list scenes, monitors and source kinds")

    from engine.network.cli import add_parsers

    add_parsers(sub, positive_float, positive_int)

    new = sub.add_parser("new", help="write a commented starter scene that runs as is")
    new.add_argument("name", help="scene name, a Python identifier (the file is NAME.py)")
    new.add_argument("--dir", type=Path, metavar="DIR", help="folder to write to (default: scenes/)")
    return parser


def _check_writable(path: Path) -> None:
    parent = path.resolve().parent
    if not parent.is_dir():
        raise CliError(f"cannot write {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise CliError(f"cannot write {path}: folder {parent} is not writable")
    if path.is_dir():
        raise CliError(f"cannot write {path}: it is a folder")


def _check_writable_folder(path: Path) -> None:
    """A folder that exists and is writable, or can be made in one that is."""
    if path.exists() and not path.is_dir():
        raise CliError(f"cannot write screenshots into {path}: it is a file (give a folder)")
    _check_writable(path / "x.png" if path.is_dir() else path)


def cmd_render(args: argparse.Namespace) -> int:
    from engine.offline import render_video

    if args.lead or args.follow:
        from engine.network.cli import cmd_node_render

        return cmd_node_render(args)
    if not args.output:
        raise CliError("give -o OUT.mp4")
    out = Path(args.output)
    _check_writable(out)
    if args.start < 0:
        raise CliError("--from must be zero or more seconds")
    seconds = args.seconds
    if args.stop is not None:
        if args.stop <= args.start:
            raise CliError(f"--to {args.stop:g} must come after --from {args.start:g}")
        if seconds is not None:
            raise CliError("give --seconds or --to, not both")
        seconds = args.stop - args.start
    stats = render_video(args.scene, out, seconds, args.fps, args.size, args.source,
                         args.seed, progress=not args.no_progress, layout=args.layout,
                         codec=args.codec, crf=args.crf, preset=args.preset, gop=args.gop,
                         workers=args.workers, scheduler=args.scheduler, start=args.start,
                         timing=args.timing, publish=args.publish, wait=args.wait,
                         render_scale=args.render_scale)
    compiled = f"{stats.compiled:.1f} s compiling kernels, first run only; " if stats.compiled else ""
    print(f"wrote {out} ({stats.frames} frames, {args.size[0]}x{args.size[1]}) in {stats.seconds:.1f} s "
          f"wall ({compiled}first frame after {stats.warmup:.1f} s), then {stats.steady_fps:.1f} fps",
          file=sys.stderr)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from engine.live import run_show

    if args.lead or args.follow:
        from engine.network.cli import cmd_node_show

        return cmd_node_show(args)
    if args.screenshot and args.venue:
        _check_writable_folder(Path(args.screenshot))
    elif args.screenshot:
        _check_writable(Path(args.screenshot))
    if args.record:
        _check_writable(Path(args.record))
    source = args.source or ("synthetic" if not args.venue else None)
    seed = args.seed if args.seed is not None or args.venue else 0
    if args.venue and (args.fullscreen or args.monitor != 0 or args.layout != "flat"):
        logging.getLogger("symphony").warning(
            "--fullscreen, --monitor and --layout are set per output in the venue file; ignored")
    drawn = run_show(args.scene, source, args.size, args.monitor, args.fullscreen, seed,
                     args.frames, args.seconds, args.screenshot, vsync=not args.no_vsync,
                     record=args.record, layout=args.layout, venue=args.venue, pattern=args.pattern,
                     publish=args.publish, render_scale=args.render_scale)
    logging.getLogger("symphony").info("drew %d frames", drawn)
    return 0


def cmd_perform(args: argparse.Namespace) -> int:
    from engine.perform.actions import ShowLog
    from engine.perform.config import parse_perform
    from engine.venue import load_venue

    venue = load_venue(args.venue)
    parse_perform(venue)  # a bad perform section fails here, before any child or window
    state = Path(args.state)
    _check_writable(state)
    log_path = Path(args.log) if args.log else state.with_suffix(".log")
    if not args.child:
        from engine.perform.supervisor import supervise

        return supervise(_perform_argv(args), state, ShowLog(log_path))
    from engine.perform.session import PerformSession
    from engine.venue.show import run_venue_show

    record = args.record
    if record and args.restart:  # each run of the show records to its own file
        record = str(Path(record).with_name(f"{Path(record).stem}-{args.restart + 1}{Path(record).suffix}"))
    control = None
    if args.standby:  # warm, then wait for the supervisor's word (engine.perform.supervisor)
        from engine.perform.supervisor import stand_by

        control = stand_by(venue, args.scene, ShowLog(log_path))
    session = PerformSession(venue, state, log_path, resume=args.resume, control=control)
    drawn = run_venue_show(venue, args.scene, args.source, args.seed, args.frames, args.seconds,
                           vsync=not args.no_vsync, record=record, perform=session)
    logging.getLogger("symphony").info("drew %d frames", drawn)
    return 0


def _perform_argv(args: argparse.Namespace) -> list[str]:
    """The child's command line: the same options, spelled out."""
    out = (["-v"] if args.verbose else []) + ["perform", str(Path(args.venue).resolve()),
                                              "--state", str(Path(args.state).resolve())]
    for flag, value in (("--scene", args.scene), ("--source", args.source), ("--seed", args.seed),
                        ("--log", args.log and str(Path(args.log).resolve())),
                        ("--record", args.record and str(Path(args.record).resolve())),
                        ("--frames", args.frames), ("--seconds", args.seconds)):
        if value is not None:
            out += [flag, str(value)]
    return out + (["--no-vsync"] if args.no_vsync else [])


def cmd_record(args: argparse.Namespace) -> int:
    from engine.recording.session import record_session

    out = Path(args.output)
    _check_writable(out)
    stats = record_session(args.source, out, args.seconds, args.seed)
    print(f"wrote {out}: {stats.streams} streams, {stats.samples} samples, {stats.events} events "
          f"in {stats.seconds:.1f} s", file=sys.stderr)
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    import json

    from engine.recording.inspect import format_summary, inspect_file

    summary = inspect_file(args.file)
    print(json.dumps(summary, indent=2, ensure_ascii=False) if args.json else format_summary(summary))
    return 0


def cmd_erase(args: argparse.Namespace) -> int:
    from engine.recording.erase import EraseError, erase_participant

    out = Path(args.output)
    _check_writable(out)
    try:
        report = erase_participant(args.file, out, args.participant)
    except EraseError as exc:
        raise CliError(str(exc)) from None
    if report.damaged_at is not None:
        logging.getLogger("symphony").warning(
            "%s is damaged at byte %d: the copy holds what came before", args.file, report.damaged_at)
    print(f"erased {args.participant}: {len(report.streams_removed)} streams, "
          f"{report.samples_removed} samples, {report.markers_removed} markers; wrote {out}",
          file=sys.stderr)
    return 0


def _scene_summary(path: Path) -> str:
    try:
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    except SyntaxError as exc:
        return f"(syntax error, line {exc.lineno})"
    return doc.strip().splitlines()[0] if doc.strip() else ""


def cmd_list(args: argparse.Namespace) -> int:
    from engine.paths import scene_dir
    from engine.scene import list_scenes
    from engine.sources import source_descriptions

    print("scenes:")
    for name in list_scenes():
        print(f"  {name:<20} {_scene_summary(scene_dir() / f'{name}.py')}")
    print("monitors:")
    try:
        import glfw

        from engine.outputs.window import WindowError, init_glfw, monitors
        init_glfw()
        found = monitors()
        glfw.terminate()
        for m in found:
            print(f"  {m['index']}: {m['name']} {m['width']}x{m['height']} @ {m['refresh']} Hz"
                  f" at ({m['x']}, {m['y']})")  # index or name: a venue's output.monitor
        if not found:
            print("  none")
    except WindowError:
        print("  none (no display; 'render' works without one)")
    print("sources:")
    for kind, description in source_descriptions().items():
        print(f"  {kind:<20} {description}")
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    import keyword

    from engine.paths import scene_dir

    name = args.name
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        raise CliError(f"scene name '{name}' must be a Python identifier not starting with '_' "
                       "(letters, digits, underscores), e.g. morning_tide")
    folder = args.dir
    if folder is None:  # an installed engine's own scenes/ is inside the package: use ./scenes
        folder = scene_dir() if "_data" not in scene_dir().parts else Path("scenes")
        folder.mkdir(exist_ok=True)
    path = folder / f"{name}.py"
    _check_writable(path)
    if path.exists():
        raise CliError(f"{path} already exists; pick another name or remove it first")
    template = (Path(__file__).parent / "templates" / "starter_scene.py").read_text()
    words = name.strip("_").split("_")
    code = template.replace("StarterScene", "".join(w[:1].upper() + w[1:] for w in words) or "Scene_")
    code = code.replace("Starter scene", " ".join(words).capitalize())  # title and docstring
    with open(path, "x", encoding="utf-8") as f:  # "x": never overwrite, even in a race
        f.write(code)
    shown = name if path.resolve().parent == scene_dir().resolve() else str(path)
    print(f"wrote {path}; try: python3 run_symphony.py show {shown}", file=sys.stderr)
    return 0


def _network_commands() -> dict:
    from engine.network.cli import cmd_network, cmd_relay

    return {"relay": cmd_relay, "network": cmd_network}


COMMANDS = {"render": cmd_render, "show": cmd_show, "perform": cmd_perform, "record": cmd_record,
            "inspect": cmd_inspect, "erase": cmd_erase, "list": cmd_list, "new": cmd_new,
            **_network_commands()}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from engine import kernel_cache

    kernel_cache.prepare()  # OpenMP policy and kernel cache, before any kernel runs
    from engine.network.cli import read_url

    for name in ("source", "publish"):  # @FILE: a spec kept in a file (the network's URLs hold passwords)
        if isinstance(getattr(args, name, None), str) and getattr(args, name).startswith("@"):
            try:
                setattr(args, name, read_url(getattr(args, name)))
            except OSError as exc:
                print(f"symphony: error: cannot read {getattr(args, name)[1:]}: {exc.strerror}",
                      file=sys.stderr)
                return EXIT_USAGE
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    from engine.outputs.video import VideoError
    from engine.outputs.window import WindowError
    from engine.render.layouts import LayoutError
    from engine.render.shaders import ShaderError
    from engine.scene import SceneError
    from engine.sources import SourceError
    from engine.venue import VenueError

    expected = (CliError, SceneError, SourceError, VideoError, WindowError, ShaderError, LayoutError,
                VenueError)
    try:
        code = COMMANDS[args.command](args)
        sys.stdout.flush()  # a closed pipe fails here, where it is handled, not at exit
        return code
    except expected as exc:
        print(f"symphony: error: {exc}", file=sys.stderr)
        usage = CliError | SceneError | SourceError | LayoutError | VenueError
        return EXIT_USAGE if isinstance(exc, usage) else EXIT_FAILURE
    except KeyboardInterrupt:
        print("symphony: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `symphony list | head`: the reader has all it wanted
        _silence_stdout()
        return 128 + 13  # as a shell reports a command ended by SIGPIPE
    except OSError as exc:
        print(f"symphony: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
