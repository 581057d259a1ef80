"""`mmviz`: list scenarios, print or export traces, draw real address spaces, build slides.

Errors are one line on stderr with a non-zero exit status, never a traceback; Ctrl-C
exits with status 130 and one line.
"""

from __future__ import annotations

import argparse
import sys

from ..model.errors import MmvizError
from ..model.world import KERNELS


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def _add_trace_args(p, scenario_names):
    p.add_argument("name", metavar="NAME", choices=scenario_names,
                   help="a scenario name (see `mmviz scenarios`)")
    p.add_argument("--kernel", choices=KERNELS, default="v4",
                   help="kernel variant: " + ", ".join(KERNELS) + " (default v4)")
    p.add_argument("--nommu", action="store_true", help="model a kernel without an MMU")


def build_parser():
    from ..scenarios import all_names, race_names
    scenario_names = all_names()
    parser = _Parser(prog="mmviz", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    sub.add_parser("scenarios", help="list the scenario catalog")
    t = sub.add_parser("trace", help="record a scenario and print its trace")
    _add_trace_args(t, scenario_names)
    t.add_argument("--format", choices=("text", "json"), default="text")
    e = sub.add_parser("export", help="export a trace: a self-contained HTML stepper, Perfetto JSON or CSV")
    _add_trace_args(e, scenario_names)
    e.add_argument("--format", choices=("html", "perfetto", "csv"), default="html")
    e.add_argument("-o", "--output", required=True, metavar="FILE")
    m = sub.add_parser("maps", help="draw a real /proc/PID/maps as SVG")
    m.add_argument("source", nargs="?", metavar="PID|FILE",
                   help="a process id or a saved maps file (default: this process)")
    m.add_argument("-o", "--output", required=True, metavar="FILE.svg")
    s = sub.add_parser("slides", help="export every lesson as an offline reveal.js deck (+ PDF)")
    s.add_argument("-o", "--output", required=True, metavar="DIR")
    s.add_argument("--no-pdf", action="store_true", help="skip the PDF handouts")
    s.add_argument("--only", metavar="NOTEBOOK", action="append", help="export only this notebook")
    x = sub.add_parser("explore", help="run a race under every single-switch schedule and "
                                       "list the ones that go wrong")
    x.add_argument("name", metavar="RACE", choices=race_names(),
                   help="a race (see `mmviz scenarios`)")
    x.add_argument("--kernel", choices=KERNELS, default="v4", help="kernel variant (default v4)")
    x.add_argument("--limit", type=int, default=None, metavar="N",
                   help="try only the first N switch points of task A")
    x.add_argument("--show", action="store_true",
                   help="also print the transcript of the shortest failing schedule")
    x.add_argument("--switch-at", type=int, default=None, metavar="K",
                   help="with --show or -o: the schedule in which B runs after A's K-th "
                        "event, instead of the shortest failing one")
    x.add_argument("-o", "--output", metavar="FILE.html", default=None,
                   help="write that schedule as a self-contained HTML stepper")
    lab = sub.add_parser("lab", help="open the lessons in JupyterLab (127.0.0.1, token auth)")
    lab.add_argument("--port", type=int, default=8888, help="port to listen on (default 8888)")
    lab.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    return parser


def cmd_scenarios(args):
    """Each scenario, its title, and the variants it tells apart (recorded under each: the
    groups differ in outcome, violations, warnings or final VMAs; '-' if none); then the
    races of two tasks, told apart under their own schedule (`mmviz explore` tries others)."""
    from ..scenarios import RACES, SCENARIOS
    from ..scenarios.distinguish import distinguishes
    width = max(len(s.name) for s in [*SCENARIOS, *RACES])
    rows = [(s.name, distinguishes(s.name), s.title) for s in SCENARIOS]
    races = [(r.name, distinguishes(r.name), r.title) for r in RACES]
    dwidth = max(len("variants told apart"), *(len(d) for _, d, _ in rows + races))
    print(f"{'scenario':<{width}}  {'variants told apart':<{dwidth}}  title")
    for name, dist, title in rows:
        print(f"{name:<{width}}  {dist:<{dwidth}}  {title}")
    print("\nraces of two tasks (mmviz trace NAME, mmviz explore NAME):")
    for name, dist, title in races:
        print(f"{name:<{width}}  {dist:<{dwidth}}  {title}")
    return 0


def cmd_explore(args):
    from ..scenarios import get_race, run_race
    from ..scenarios.explore import explore, table
    if args.limit is not None and args.limit < 0:
        from ..model.errors import InputError
        raise InputError("--limit must be 0 or more switch points")
    race = get_race(args.name)
    ex = explore(race, args.kernel, args.limit)
    sys.stdout.write(table(ex))
    s = ex.shortest_failing
    if args.switch_at is not None:
        s = next((r for r in ex.runs if r.switch_at == args.switch_at), None)
        if s is None:
            from ..model.errors import InputError
            raise InputError(f"--switch-at {args.switch_at}: A has switch points 0 to "
                             f"{len(ex.runs) - 1} here")
    elif s is None and args.output:
        s = ex.serial                      # nothing fails: write the serial run
    if s is None or not (args.show or args.output):
        return 0
    trace = run_race(race, args.kernel, schedule=s.schedule)
    if args.show:
        from ..render.text import transcript
        sys.stdout.write("\n" + transcript(trace))
    if args.output:
        from ..render.stepper_html import stepper_html
        from .export import write_output
        size = write_output(args.output, stepper_html(trace))
        which = (f"the schedule switching after A's event {s.switch_at}"
                 if s.switch_at is not None else "the serial run")
        sys.stdout.write(f"mmviz: wrote {args.output} ({len(trace.events)}-step HTML stepper "
                         f"of {which}, {size / 1024:.0f} KiB)\n")
    return 0


def cmd_trace(args):
    from ..scenarios import record
    t = record(args.name, kernel=args.kernel, nommu=args.nommu)
    if args.format == "json":
        sys.stdout.write(t.to_json())
    else:
        from ..render.text import transcript
        sys.stdout.write(transcript(t))
    return 0


def cmd_export(args):
    from .export import export
    return export(args)


def cmd_maps(args):
    from .maps import draw_maps
    return draw_maps(args)


def cmd_slides(args):
    from .slides import build_slides
    return build_slides(args)


def cmd_lab(args):
    from .lab import open_lab
    return open_lab(args)


COMMANDS = {"scenarios": cmd_scenarios, "trace": cmd_trace, "export": cmd_export,
            "maps": cmd_maps, "slides": cmd_slides, "explore": cmd_explore, "lab": cmd_lab}


def main(argv=None) -> int:
    try:
        return _run(argv)
    except KeyboardInterrupt:
        # Ctrl-C: one line and the shell's status for SIGINT (128 + 2), no traceback.
        sys.stderr.write("mmviz: interrupted\n")
        return 130


def _run(argv) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args) or 0
    except MmvizError as e:
        sys.stderr.write(f"mmviz: error: {e}\n")
        return 2
    except (OSError, ValueError) as e:
        sys.stderr.write(f"mmviz: error: {e}\n")
        return 1
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
