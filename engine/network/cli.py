"""Command-line parts of the network: `symphony relay` and `symphony network init|up`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parsers(sub, positive_float, positive_int) -> None:
    relay = sub.add_parser("relay", help="publish an Alcove's features to the network (no display)")
    relay.add_argument("--source", default="synthetic", metavar="SRC", help="data source spec")
    relay.add_argument("--publish", required=True, metavar="URL",
                       help="the Alcove's publish URL (DIR/<alcove>/publish.url, or @FILE to read it)")
    relay.add_argument("--rate", type=positive_float, default=10.0, help="messages per second (default 10)")
    relay.add_argument("--seconds", type=positive_float, help="stop after S seconds (default: Ctrl-C)")
    relay.add_argument("--seed", type=int, default=0, help="random seed (default 0)")

    network = sub.add_parser("network", help="set up and run an Oral Wellness Network of brokers")
    nsub = network.add_subparsers(dest="network_command", required=True, metavar="ACTION")
    init = nsub.add_parser("init", help="write Mosquitto configs, certificates and passwords")
    init.add_argument("folder", type=Path, help="a new folder for the network")
    init.add_argument("--alcoves", required=True, metavar="a1,a2,...", help="Alcove ids, comma-separated")
    init.add_argument("--hub-port", type=positive_int, default=8883, help="the hub's TLS port (default 8883)")
    init.add_argument("--hub-host", default="127.0.0.1",
                      help="name or address the Alcoves dial (on the hub's certificate; default 127.0.0.1)")
    init.add_argument("--hub-bind", default="127.0.0.1",
                      help="address the hub listens on (default 127.0.0.1; 0.0.0.0 for other machines)")
    init.add_argument("--local-port", type=positive_int, default=1884,
                      help="Alcove i's own broker listens on 127.0.0.1:PORT+i (default 1884)")
    up = nsub.add_parser("up", help="start every broker of a network folder here; Ctrl-C stops them")
    up.add_argument("folder", type=Path, help="the network folder")
    up.add_argument("--seconds", type=positive_float, help="stop after S seconds")


def read_url(text: str) -> str:
    """A URL, or @FILE holding one (keeps passwords out of shell history)."""
    return Path(text[1:]).read_text().strip() if text.startswith("@") else text


def cmd_relay(args: argparse.Namespace) -> int:
    from engine.network.publisher import run_relay
    from engine.network.up import terminate_as_interrupt

    terminate_as_interrupt()  # a service manager's stop flushes the queue to the venue broker, like Ctrl-C
    sent = run_relay(args.source, read_url(args.publish), args.rate, args.seconds, args.seed)
    print(f"relay: published {sent} feature messages", file=sys.stderr)
    return 0


def cmd_network(args: argparse.Namespace) -> int:
    from engine.network.setup import NetworkError, Plan, init_network
    from engine.network.up import BrokerStartError, run_network, terminate_as_interrupt

    try:
        if args.network_command == "init":
            alcoves = [a.strip() for a in args.alcoves.split(",") if a.strip()]
            configs = init_network(Plan(args.folder, alcoves, args.hub_host, args.hub_bind, args.hub_port,
                                        args.local_port))
            for name, conf in configs.items():
                print(f"{name}: mosquitto -c {conf}", file=sys.stderr)
            print(f"read the city with --source @{args.folder / 'hub' / 'read.url'}; each Alcove publishes "
                  f"to @{args.folder}/<alcove>/publish.url", file=sys.stderr)
            return 0
        terminate_as_interrupt()  # SIGTERM stops the brokers too, as Ctrl-C does
        run_network(args.folder, args.seconds)
        return 0
    except (NetworkError, BrokerStartError) as exc:
        from engine.cli import CliError

        raise CliError(str(exc)) from None


def add_node_options(p: argparse.ArgumentParser) -> None:
    """Frame-locked render nodes (engine/network/nodes.py) on `render` and `show`."""
    g = p.add_argument_group("render nodes (one show across machines, frame-locked)")
    g.add_argument("--lead", metavar="URL", help="lead the nodes through this broker (mqtt://HOST:PORT[/BASE])")
    g.add_argument("--follow", metavar="URL", help="follow the lead through this broker")
    g.add_argument("--followers", type=int, default=1, metavar="N", help="lead: followers to wait for")
    if not any(a.dest == "node" for a in p._actions):
        g.add_argument("--node", metavar="NAME", help="follower: this node's name (default: its region)")
    g.add_argument("--canvas", metavar="W,H", help="the venue canvas all nodes share (default: --size)")
    g.add_argument("--region", metavar="X,Y,W,H", help="the part of the canvas this node draws")
    g.add_argument("--node-timeout", type=float, default=2.0, metavar="S",
                   help="lead: drop a follower silent for S seconds (default 2)")


def _node_geometry(args: argparse.Namespace):
    from engine.cli import CliError
    from engine.network.node_render import parse_pair, parse_rect

    if getattr(args, "venue", None) and args.follow and not (args.canvas or args.region):
        return _venue_geometry(args)
    try:
        canvas = parse_pair(args.canvas) if args.canvas else tuple(args.size)
        region = parse_rect(args.region) if args.region else None
    except ValueError:
        raise CliError("--canvas is W,H and --region X,Y,W,H (whole pixels)") from None
    if region is not None:
        x, y, w, h = region
        if w < 16 or h < 16 or x < 0 or y < 0 or x + w > canvas[0] or y + h > canvas[1]:
            raise CliError(f"--region {args.region} must lie inside the canvas {canvas[0]}x{canvas[1]} "
                           "and be 16x16 at least")
    return canvas, region


def _venue_geometry(args: argparse.Namespace):
    """A follower's canvas and region from the venue file's output named --output/--node."""
    from engine.cli import CliError
    from engine.venue import VenueError, load_venue

    try:
        venue = load_venue(args.venue)
    except VenueError as exc:
        raise CliError(str(exc)) from None
    spec = next((o for o in venue.outputs if o.name == args.node), None)
    if spec is None:
        names = ", ".join(o.name for o in venue.outputs)
        raise CliError(f"the venue has no output '{args.node}' (outputs: {names}); give --output NAME")
    if venue.canvas is None or spec.region is None:
        raise CliError(f"output '{spec.name}' has no region of a [show] canvas; give --canvas and --region")
    return tuple(venue.canvas), tuple(spec.region)


def cmd_node_render(args: argparse.Namespace) -> int:
    from engine.cli import CliError, _check_writable
    from engine.network.node_render import run_follow_render, run_lead_render

    if args.lead and args.follow:
        raise CliError("a node leads or follows, not both")
    canvas, region = _node_geometry(args)
    seconds = args.seconds if args.seconds is not None else 10.0
    if args.output:
        _check_writable(Path(args.output))
    if args.lead:
        frames = max(1, round(seconds * args.fps))
        stats = run_lead_render(args.scene, args.lead, args.followers, frames, args.fps, args.source,
                                args.seed, canvas, region, args.output, args.node_timeout)
        waits = sorted(stats.wait_ms) or [0.0]
        print(f"lead: {stats.frames} frames in {stats.seconds:.1f} s with followers "
              f"{', '.join(stats.followers) or 'none'}; wait for nodes p50 {waits[len(waits) // 2]:.1f} ms, "
              f"max {waits[-1]:.1f} ms", file=sys.stderr)
        for node, frame in stats.dropped:
            print(f"lead: follower {node} dropped at frame {frame}", file=sys.stderr)
        return 0
    if not args.output:
        raise CliError("a follower needs -o OUT (its part of the show)")
    node = args.node or ("x".join(map(str, region)) if region else "full")
    drawn = run_follow_render(args.scene, args.follow, node, args.output, canvas, region, args.fps, args.seed)
    print(f"node {node}: drew {drawn} frames", file=sys.stderr)
    return 0


def cmd_node_show(args: argparse.Namespace) -> int:
    from engine.cli import CliError
    from engine.network.node_show import run_follow_show, run_lead_show

    if args.lead and args.follow:
        raise CliError("a node leads or follows, not both")
    canvas, region = _node_geometry(args)
    seed = args.seed or 0
    if args.lead:
        run_lead_show(args.scene, args.lead, args.followers, args.node_timeout,
                      source=args.source or "synthetic", size=args.size, monitor=args.monitor,
                      fullscreen=args.fullscreen, seed=seed,
                      frames=args.frames, seconds=args.seconds, screenshot=args.screenshot,
                      vsync=not args.no_vsync, record=args.record, layout=args.layout, publish=args.publish)
        return 0
    node = args.node or ("x".join(map(str, region)) if region else "full")
    drawn = run_follow_show(args.scene, args.follow, node, canvas, region, args.monitor, args.fullscreen,
                            seed, args.frames)
    print(f"node {node}: drew {drawn} frames", file=sys.stderr)
    return 0
