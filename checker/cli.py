"""The `stagelock` command.  The only module that talks to the terminal.

Exit status: 0 all proved / scenario passed; 1 a property refuted / a scenario step failed;
2 bad input (one line on stderr: file, place, what was expected); 3 undetermined or interrupted;
4 an internal error of stagelock.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

import yaml

from checker import draw
from checker.check import (
    EXIT_CODES,
    INTERRUPTIONS,
    PROVED,
    REFUTED,
    UNDETERMINED,
    CheckConfig,
    ModeResult,
    check_mode,
    interruption,
    not_seen,
    overall,
    reference_pipeline,
    variant_options,
)
from checker.config import (
    check_bound,
    check_update_bounds,
    check_update_modes,
    check_workers,
    declaration_config,
    load_model_file,
    validate_own,
    with_updates_to,
)
from checker.engine import ENGINES, STORAGES, Bounds, default_workers
from checker.errors import (
    EXIT_INTERNAL,
    InputError,
    InternalError,
    Terminated,
    handled,
    interrupt,
)
from checker.formats import source_in
from checker.report import render_text, to_json
from checker.rulesfile import (
    combine,
    data_files_may_name_rules,
    load_rules_file,
    project_allows_rules_files,
)
from checker.safeio import write_atomically
from checker.scenario import load_scenario, run_scenario, scenario_document
from checker.view import pipeline_state, render_state
from spec.declaration import Pipeline
from spec.modes import MODES
from spec.properties import PROPERTIES, properties_for
from spec.rules import build_model
from spec.variants import VARIANTS, rule_set


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


EPILOG = """\
exit status, for every command:
  0  all proved (NOT APPLICABLE and NOT SEEN verdicts included) / the scenario passed /
     nothing changed
  1  a property refuted / a scenario step failed / a lint error / something changed
  2  bad input: one line on stderr naming the file, the place in it and what was expected
  3  undetermined or interrupted: a limit, Ctrl-C or SIGTERM stopped the work before
     everything was decided (the report so far is printed, the rest marked UNDETERMINED)
  4  an internal error of stagelock (one line on stderr says where its traceback is;
     --debug prints it)

Rules files are Python that runs: `--rules FILE.py` runs that file.  A scenario, model or
baseline configurations file that names rules files is refused unless --allow-rules-files
is given or ./pyproject.toml has allow-rules-files = true under [tool.stagelock].
"""


def _common_options(parser: argparse.ArgumentParser, top: bool) -> None:
    """--debug and --allow-rules-files, accepted before or after the command's name."""
    default: Any = False if top else argparse.SUPPRESS
    parser.add_argument("--debug", action="store_true", default=default,
                        help="on an internal error, print the traceback")
    parser.add_argument("--allow-rules-files", action="store_true", default=default,
                        help="let scenario, model and baseline configurations files name rules "
                             "files (Python that runs)")
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _common_options(child, top=False)


def _engine_options(parser: argparse.ArgumentParser, storage: bool = False) -> None:
    """--engine and --workers (and, for check and the benchmark, --storage)."""
    parser.add_argument("--engine", choices=ENGINES,
                        help="explore with this engine (default: compiled wherever it can run "
                             "the rules and properties, else interpreted)")
    parser.add_argument("--workers", type=int, metavar="N",
                        help=f"the compiled engine's workers (default: every core, "
                             f"{default_workers()} here)")
    if storage:
        parser.add_argument("--storage", choices=STORAGES,
                            help="how the compiled engine stores states: exact (every state "
                                 "whole, the graph kept; the default) or fingerprint (64-bit "
                                 "fingerprints only, for very large searches: no graph, so "
                                 "can-always-finish stays undetermined, and the report gives "
                                 "the chance that a state was missed)")


def _workers(args: argparse.Namespace) -> int | None:
    if args.workers is None:
        return None
    return check_workers("command line", "--workers", args.workers)


def _parser() -> argparse.ArgumentParser:
    parser = _build_parser()
    _common_options(parser, top=True)
    return parser


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="stagelock", description=__doc__.splitlines()[0] if __doc__ else "",
                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    from checker.formats.sarif import tool_version

    parser.add_argument("--version", action="version", version=f"stagelock {tool_version()}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    check = sub.add_parser(
        "check", help="explore every interleaving and prove or refute the properties",
        description="Explore, breadth first, every interleaving of a bounded configuration and "
        "prove or refute the named properties.  With no FILE: the built-in reference pipeline "
        "in all three modes.")
    check.add_argument("file", nargs="?", metavar="DECLARATION|MODEL.toml")
    check.add_argument("--mode", choices=list(MODES), help="override the execution mode")
    check.add_argument("--all-modes", action="store_true", help="check all three modes")
    for name, default, text in (
        ("executions", "3; 4 for the built-in reference pipeline, 3 in its PARALLEL mode",
         "executions started"),
        ("stops", 1, "StopPipelineExecution calls in total"),
        ("retries", 1, "RetryStageExecution calls in total"),
        ("toggles", 1, "DisableStageTransition/EnableStageTransition pairs"),
        ("updates", 0, "UpdatePipeline calls in total"),
        ("rollbacks", 0, "RollbackStage calls in total"),
    ):
        check.add_argument(f"--{name}", type=int, metavar="N", help=f"{text} (default {default})")
    check.add_argument("--update-modes", metavar="MODE[,MODE]",
                       help="execution modes an update may change the pipeline to, besides "
                            "keeping its mode (needs --updates 1 or more)")
    check.add_argument("--update-to", action="append", default=[], metavar="FILE",
                       help="a declaration an update may install: its stages, actions and "
                            "execution mode (repeatable; needs --updates 1 or more)")
    check.add_argument("--no-failures", action="store_true",
                       help="actions always succeed and approvals are always approved")
    check.add_argument("--property", action="append", default=[], metavar="NAME",
                       help="check only this property (repeatable; see `stagelock properties`)")
    check.add_argument("--variant", action="append", default=[], metavar="NAME",
                       help="check a rule variant (repeatable; see `stagelock variants`)")
    check.add_argument("--rules", action="append", default=[], metavar="FILE.py",
                       help="check a rule variant of your own, written in a Python file, which "
                            "runs (repeatable; see README, 'Writing a rule variant')")
    check.add_argument("--max-states", type=int, metavar="N", help="stop after N states")
    check.add_argument("--max-seconds", type=int, metavar="S",
                       help="stop after S seconds in all (the modes share them)")
    check.add_argument("--max-memory", type=int, metavar="MIB",
                       help="stop when the process holds MIB MiB (default 75%% of the "
                            "machine's memory)")
    check.add_argument("--fail-on", choices=("error", "warning", "note", "never"),
                       default=None,
                       help="the least severe hazard of this pipeline whose refutation makes "
                            "the result REFUTED (default error; CodePipeline's guarantees and "
                            "your own properties always do)")
    check.add_argument("--require-witnesses", action="store_true",
                       help="exit 1 when a witness is NOT SEEN (default: a warning, exit 0)")
    check.add_argument("--resource", metavar="ID",
                       help="the pipeline resource of a CloudFormation template")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.add_argument("--trace-out", metavar="FILE",
                       help="write the first counterexample as a scenario file")
    check.add_argument("--trace-svg", metavar="FILE",
                       help="draw the first counterexample as a timeline (SVG)")
    _engine_options(check, storage=True)

    simulate = sub.add_parser(
        "simulate", help="run a scenario file step by step",
        description="Run a scenario's steps through the rules and check its expectations.")
    simulate.add_argument("scenario", metavar="SCENARIO")
    simulate.add_argument("--trace", action="store_true", help="print the state after each step")
    simulate.add_argument("--json", action="store_true", help="print JSON")
    simulate.add_argument("--svg", metavar="FILE", help="draw the final state (SVG)")
    simulate.add_argument("--svg-steps", metavar="DIR",
                          help="draw the state after each step: DIR/step-01.svg (and .dot), ...")

    properties = sub.add_parser("properties", help="list the properties the checker knows")
    properties.add_argument("--json", action="store_true")
    properties.add_argument("--patterns", action="store_true",
                            help="list the patterns for your own properties instead")
    sub.add_parser("variants", help="list the rule variants")

    bench = sub.add_parser(
        "benchmark", help="measure exploration speed and memory per state",
        description="Explore fixed configurations, each in a fresh process, and print distinct "
        "states, transitions, seconds, states per second, peak memory and bytes per state.")
    bench.add_argument("--no-properties", action="store_true",
                       help="explore without checking properties (the search alone)")
    bench.add_argument("--max-seconds", type=int, metavar="S",
                       help="stop each configuration after S seconds")
    bench.add_argument("--case", type=int, action="append", metavar="N",
                       help="run only configuration N (1-based; repeatable)")
    bench.add_argument("--large", action="store_true",
                       help="also run the large configurations (60 and 370 million states, "
                            "about 1.5 and 9 minutes: compiled engine only, fingerprint storage)")
    bench.add_argument("--repeat", type=int, default=1, metavar="N",
                       help="run each configuration on each engine N times (each in a fresh "
                            "process) and show the median run, with every run's states per "
                            "second: on a shared machine one run can differ from the next by a "
                            "third (default 1)")
    _engine_options(bench, storage=True)
    _diagram_parser(sub)
    _diff_parsers(sub)

    lint = sub.add_parser(
        "lint", help="find hazards in pipeline declarations",
        description="Look for what can go wrong outside CodePipeline's own bookkeeping in each "
        "pipeline of the files (get-pipeline JSON or YAML, CloudFormation templates, Terraform): "
        "deploys out of order or landing late, deploys the provider refuses, tests and "
        "approvals of another revision than the environment holds, reads gone stale, stops "
        "without a disabled transition.  Exit 1 when a finding is at least as severe as "
        "--fail-on, 2 when a file cannot be read (the others are still linted).")
    lint.add_argument("files", nargs="+", metavar="DECLARATION")
    lint.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    lint.add_argument("--fail-on", choices=("error", "warning", "note", "never"),
                      default="error",
                      help="the least severe finding that makes the exit status 1 (default "
                           "error)")
    lint.add_argument("--skip-files-without-pipelines", action="store_true",
                      help="leave out (with a note) valid files that declare no pipeline, as a "
                           "pre-commit hook is given every YAML and JSON file")
    lint.add_argument("--explain", action="store_true",
                      help="also print the world lint derived for each pipeline: its targets, "
                           "what writes and reads them, and how each action was recognised")
    lint.add_argument("--ignore", action="append", default=[], metavar="RULE[:PIPELINE]",
                      help="silence a rule (id or name), everywhere or for one pipeline")
    lint.add_argument("--executions", type=int, metavar="N",
                      help="executions to start (default 2)")
    lint.add_argument("--stops", type=int, metavar="N",
                      help="stops for the operator's hazards (default 1; 0 leaves them out)")
    lint.add_argument("--toggles", type=int, metavar="N",
                      help="transition disable/enable pairs (default 0: a transition the "
                           "declaration disables stays disabled)")
    _engine_options(lint)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command; never a traceback: an unexpected exception is an internal error
    (`EXIT_INTERNAL`), reported in one line with where its traceback was written."""
    debug = "--debug" in (sys.argv[1:] if argv is None else argv)
    for stream in (sys.stdout, sys.stderr):
        # Text from users' files (a lone surrogate from a JSON escape, say) never fails to print.
        with contextlib.suppress(AttributeError, ValueError, OSError):
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    previous = _handle_signals()
    try:
        args = _parser().parse_args(argv)
        debug = bool(getattr(args, "debug", False))
        return _run(args)
    except KeyboardInterrupt as stop:
        print(f"stagelock: interrupted ({interruption(stop)}) before anything was decided",
              file=sys.stderr)
        return EXIT_CODES[UNDETERMINED]
    except Exception as error:  # a fault of stagelock itself, never a verdict
        return _internal_error(error, debug)
    finally:
        _restore_signals(previous)


def _run(args: argparse.Namespace) -> int:
    allowed = bool(getattr(args, "allow_rules_files", False)) or project_allows_rules_files()
    with data_files_may_name_rules(allowed):
        return _run_command(args)


def _run_command(args: argparse.Namespace) -> int:
    try:
        if args.command == "check":
            return _check(args)
        if args.command == "simulate":
            return _simulate(args)
        if args.command == "properties":
            return _properties(args)
        if args.command == "benchmark":
            return _benchmark(args)
        if args.command == "diagram":
            return _diagram(args)
        if args.command in ("diff", "baseline"):
            return _diff_or_baseline(args)
        if args.command == "lint":
            return _lint(args)
        return _variants()
    except InputError as error:
        print(f"stagelock: {error}", file=sys.stderr)
        return 2
    except InternalError as error:
        print(f"stagelock: internal error: {error}", file=sys.stderr)
        return EXIT_INTERNAL
    except (draw.GraphTooLarge, draw.GraphvizMissing) as error:
        print(f"stagelock: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`stagelock ... | head`): stop writing, quietly.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as error:  # an output file that cannot be written
        where = error.filename or "output"
        print(f"stagelock: {where}: expected a writable file ({error.strerror})", file=sys.stderr)
        return 2


def _handle_signals() -> Any:
    """SIGTERM raises `Terminated` (a KeyboardInterrupt) in the main thread, so that it ends a
    run exactly as Ctrl-C does; both are recorded as they are raised, so that one that Python
    drops (raised inside a finaliser) is raised again at the engines' next checkpoint
    (`checker.errors.reraise_interruption`), and both wait while the kernel is loaded
    (`checker.errors.deferred_interruptions`).  Returns the SIGTERM handler it replaced (None:
    none was installed)."""
    def terminated(signum: int, frame: Any) -> None:
        interrupt(Terminated())

    def ctrl_c(signum: int, frame: Any) -> None:
        interrupt(KeyboardInterrupt())

    handled()
    try:
        previous = signal.signal(signal.SIGTERM, terminated)
    except (ValueError, OSError):  # not the main thread: leave signals alone
        return None
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, ctrl_c)
    return previous


def _restore_signals(previous: Any) -> None:
    handled()
    if previous is not None:
        with contextlib.suppress(ValueError, OSError):
            signal.signal(signal.SIGTERM, previous)
            if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
                signal.signal(signal.SIGINT, signal.default_int_handler)


def _internal_error(error: BaseException, debug: bool) -> int:
    text = "".join(traceback.format_exception(error))
    name = type(error).__name__
    what = f"{name}: {' '.join(str(error).split())[:200]}" if str(error) else name
    if debug:
        sys.stderr.write(text)
        print(f"stagelock: internal error of stagelock ({what}); please report it",
              file=sys.stderr)
        return EXIT_INTERNAL
    try:
        fd, path = tempfile.mkstemp(prefix="stagelock-crash-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(f"stagelock {' '.join(sys.argv[1:])}\n\n{text}")
        where = f"the full traceback is in {path}"
    except OSError:
        where = "the traceback could not be written to a file; rerun with --debug to see it"
    print(f"stagelock: internal error of stagelock ({what}); {where}; please report it",
          file=sys.stderr)
    return EXIT_INTERNAL


# --------------------------------------------------------------------------------------------
# check


def _bound(args: argparse.Namespace, name: str, option: str) -> int | None:
    value = getattr(args, name)
    if value is None:
        return None
    return check_bound("command line", option, name, value)


REFERENCE_BOUNDS = Bounds(executions=4)
"""The main job's bounds (`stagelock check` with no file): four executions, one stop, one retry
and one transition toggle: with stage locks, four executions can fill the reference pipeline's
four stages at once, each with one more waiting in front."""
REFERENCE_MODE_EXECUTIONS = (("PARALLEL", 3),)
"""Decision: the main job explores PARALLEL mode with three executions.  There no execution
waits for another's stage lock, so the properties that apply there are about one execution at a
time or about what a second does beside it; three executions cover those and what a third
changes, while a fourth multiplies the interleavings of independent executions (21 million
states against 0.8 million) without a question that needs it.  `--executions` sets every
mode's."""


def _config(args: argparse.Namespace) -> CheckConfig:
    if args.file and args.file.endswith(".toml"):
        if args.resource:
            raise InputError("command line", "--resource",
                             "expected no --resource with a model file (use its `resource` key)")
        config = load_model_file(Path(args.file))
    elif args.file:
        config = declaration_config(source_in(args.file, args.resource))
    else:
        config = CheckConfig(reference_pipeline(), "built-in reference pipeline", tuple(MODES),
                             REFERENCE_BOUNDS, mode_executions=REFERENCE_MODE_EXECUTIONS)
    if args.mode and args.all_modes:
        raise InputError("command line", "--mode", "expected either --mode or --all-modes")
    if args.mode:
        config = replace(config, modes=(args.mode,))
    elif args.all_modes:
        config = replace(config, modes=tuple(MODES))
    bounds = config.bounds
    for name in ("executions", "stops", "retries", "toggles", "updates", "rollbacks",
                 "max_states", "max_seconds", "max_memory"):
        value = _bound(args, name, "--" + name.replace("_", "-"))
        if value is not None:
            bounds = replace(bounds, **{name: value})  # type: ignore[arg-type]
            if name == "executions":
                config = replace(config, mode_executions=())
    if args.no_failures:
        bounds = replace(bounds, failures=False)
    if args.update_modes is not None:
        bounds = replace(bounds, update_modes=check_update_modes(
            "command line", "--update-modes", args.update_modes))
    config = replace(config, bounds=check_update_bounds("command line", "--update-modes", bounds))
    if args.update_to:
        config = with_updates_to(config, [Path(f) for f in args.update_to], "command line",
                                 "--update-to")
    for i, name in enumerate(args.property):
        if name not in PROPERTIES:
            raise InputError("command line", f"--property #{i + 1}",
                             f"expected a property name (see `stagelock properties`), "
                             f"got {name!r}")
    for i, name in enumerate(args.variant):
        if name not in VARIANTS:
            raise InputError("command line", f"--variant #{i + 1}",
                             f"expected a variant name ({', '.join(VARIANTS)}), got {name!r}")
    if args.property:
        # The properties named are all that is checked: not the file's own, nor its hazards.
        config = replace(config, properties=tuple(args.property), own=())
    for mode in config.modes if config.properties else ():
        if not properties_for(mode, config.properties, config.bounds.update_modes):
            names = ", ".join(config.properties)
            applies = "; ".join(f"{p} applies to {PROPERTIES[p].applicability()}"
                                for p in config.properties)
            raise InputError("command line", "--property",
                             f"expected a property that applies to {mode} mode, {names} does "
                             f"not ({applies}); choose the mode with --mode")
    if args.variant:
        config = replace(config, variants=tuple(args.variant))
    if args.rules:
        loaded = tuple(load_rules_file(path) for path in args.rules)
        config = replace(config, rules_files=loaded)
    combine("command line", "--variant/--rules", config.variants, config.rules_files)
    if args.engine:
        config = replace(config, engine=args.engine)
    if args.fail_on:
        config = replace(config, fail_on=args.fail_on)
    validate_own(config)
    return replace(config, workers=_workers(args), storage=args.storage or "auto")


class _Progress:
    """Progress on stderr while it is a terminal: states, queue, depth, rate."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.shown = False

    def __call__(self, states: int, queue: int, depth: int, seconds: float) -> None:
        if seconds < 0.5:
            return
        rate = states / seconds if seconds else 0
        sys.stderr.write(f"\r{self.mode}: {states:,} states, queue {queue:,}, depth {depth}, "
                         f"{rate:,.0f} states/s   ")
        sys.stderr.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\r" + " " * 79 + "\r")
            sys.stderr.flush()


def _check(args: argparse.Namespace) -> int:
    config = _config(args)
    results: list[ModeResult] = []
    stopped: str | None = None  # what ended the run early: Ctrl-C, SIGTERM or --max-seconds
    began = time.monotonic()
    limit = config.bounds.max_seconds
    for mode in config.modes:
        mode_config = config
        if limit is not None:
            # --max-seconds bounds the whole command: each mode gets the time that is left.
            left = limit - (time.monotonic() - began)
            if left <= 0:
                stopped = f"--max-seconds {limit:g}"
                break
            mode_config = replace(config, bounds=replace(config.bounds, max_seconds=left))
        progress = _Progress(mode) if sys.stderr.isatty() and not args.json else None
        try:
            result = check_mode(mode_config, mode, progress)
        except KeyboardInterrupt as stop:
            stopped = interruption(stop)
            break
        finally:
            if progress is not None:
                progress.done()
        ex = result.exploration
        if limit is not None and (ex.stopped_by or "").startswith("--max-seconds"):
            ex.stopped_by = f"--max-seconds {limit:g}"
        results.append(result)
        if ex.stopped_by in INTERRUPTIONS or result.interrupted:
            stopped = ex.stopped_by if ex.stopped_by in INTERRUPTIONS else result.interrupted
            break
    not_searched = config.modes[len(results):]
    outcome = overall(results, complete=not not_searched)
    if args.json:
        print(json.dumps(to_json(config, results, not_searched, stopped), indent=2))
    else:
        print(render_text(config, results, not_searched, stopped))
        if stopped in INTERRUPTIONS:
            print(f"Interrupted ({stopped}): the report above covers what was explored so far.")
    if args.trace_out:
        _write_trace(Path(args.trace_out), results, config)
    if args.trace_svg:
        found = draw.first_counterexample(results)
        if found is None:
            print(f"No counterexample to draw; {args.trace_svg} not written.", file=sys.stderr)
        else:
            draw.write_picture(draw.verdict_timeline_dot(*found), Path(args.trace_svg))
            print(f"Counterexample to {found[1].property.name} drawn in {args.trace_svg}",
                  file=sys.stderr)
    if outcome == PROVED and args.require_witnesses and not_seen(results):
        return EXIT_CODES[REFUTED]
    return EXIT_CODES[outcome]


def _write_trace(path: Path, results: list[ModeResult], config: CheckConfig) -> None:
    import os

    files = {v.name: os.path.relpath(v.source, path.resolve().parent)
             for v in config.rules_files}
    for r in results:
        for v in r.verdicts:
            if v.verdict == REFUTED and v.trace is not None:
                doc = scenario_document(
                    r.model, v.trace,
                    f"Counterexample to {v.property.name} ({v.property.meaning}) in {r.mode} "
                    f"mode: {v.detail}.",
                    [v.property.name] if v.property.kind in ("invariant", "step") else [],
                    files,
                )
                write_atomically(path, yaml.safe_dump(doc, sort_keys=False, width=100))
                print(f"Counterexample to {v.property.name} written to {path}", file=sys.stderr)
                return
    print(f"No counterexample to write; {path} not written.", file=sys.stderr)


# --------------------------------------------------------------------------------------------
# simulate


def _simulate(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    run = run_scenario(scenario)
    m = scenario.model
    if args.json:
        out: dict[str, Any] = {"scenario": scenario.file, "passed": not run.failures,
                               "failures": run.failures,
                               "warnings": [w.to_json(scenario.declaration)
                                            for w in scenario.warnings]}
        if args.trace:
            out["steps"] = [
                {"step": r.step.index + 1, "text": r.step.text, "refused": r.refused,
                 "failures": r.failures,
                 "state": pipeline_state(m, r.state, run.names[:len(r.state.executions)])}
                for r in run.results
            ]
        out["final"] = pipeline_state(m, run.final, run.names)
        print(json.dumps(out, indent=2))
    else:
        # What the verdicts of the steps do not account for comes first, as under check's
        # header.
        for w in scenario.warnings:
            print(f"warning: {w.describe(scenario.declaration)}")
        if scenario.warnings:
            print()
        if args.trace:
            for r in run.results:
                head = f"Step {r.step.index + 1}: {r.step.text}"
                if r.refused:
                    head += f"  -> refused: {r.refused}"
                print(head)
                if r.step.operation is not None:
                    names = run.names[:len(r.state.executions)]
                    print(render_state(m, r.state, names))
                for f in r.failures:
                    print(f"  FAILED: {f}")
                print()
        else:
            print(render_state(m, run.final, run.names))
            print()
        if run.failures:
            for f in run.failures:
                print(f"FAILED {f}")
        else:
            print(f"All {len(run.results)} steps passed.")
    if args.svg:
        draw.write_picture(draw.run_pipeline_dot(run), Path(args.svg))
    if args.svg_steps:
        draw.write_steps(run, Path(args.svg_steps))
    return 1 if run.failures else 0


# --------------------------------------------------------------------------------------------
# listings


def _properties(args: argparse.Namespace) -> int:
    if args.patterns:
        return _patterns(args)
    if args.json:
        print(json.dumps([
            {"name": p.name, "kind": p.kind, "meaning": p.meaning, "source": p.source,
             "modes": list(p.modes), "needsModes": list(p.needs_modes)}
            for p in PROPERTIES.values()], indent=2))
        return 0
    for p in PROPERTIES.values():
        print(f"{p.name}  [{p.kind}; {p.applicability()}]")
        print(f"    {p.meaning}")
        print(f"    \"{p.source}\"")
    return 0


def _patterns(args: argparse.Namespace) -> int:
    """The catalogue of `spec.patterns`: what a model file's [[property]] tables, a template's
    Metadata and `checker.testing` may ask of a pipeline."""
    from spec.patterns import PATTERNS

    if args.json:
        print(json.dumps([
            {"pattern": p.name, "kind": p.kind, "parameters": list(p.params),
             "optional": list(p.optional), "meaning": p.meaning, "example": p.example}
            for p in PATTERNS.values()], indent=2))
        return 0
    for p in PATTERNS.values():
        params = ", ".join([*p.params, *(f"{o} (optional)" for o in p.optional)])
        print(f"{p.name}  [{p.kind}; {params}]")
        print(f"    {p.meaning}")
        print(f"    example: {p.example}")
    return 0


def _variants() -> int:
    for v in VARIANTS.values():
        kind = "broken on purpose" if v.broken else "another reading of the documentation"
        print(f"{v.name}  [{kind}; {', '.join(v.modes)}]")
        print(f"    {v.summary}")
        if v.refuted_by:
            print(f"    refuted by: {', '.join(v.refuted_by)}")
        if v.example != "reference":
            print(f"    shown on: checker/{v.example}-pipeline.json (the reference pipeline "
                  "does not use these rules)")
        if v.updates or v.rollbacks:
            what = ("a change of execution mode" if v.update_modes else "pipeline updates"
                    if v.updates else "stage rollback")
            print(f"    shown with: {variant_options(v)} (the rules it changes are those of "
                  f"{what})")
    return 0


MAX_REPEAT = 100
"""The most runs `benchmark --repeat` makes of each configuration and engine."""


def _benchmark(args: argparse.Namespace) -> int:
    from checker import benchmark as bench

    cases = bench.CASES + (bench.LARGE_CASES if args.large else ())
    chosen = args.case or list(range(1, len(cases) + 1))
    for i, n in enumerate(chosen):
        if not 1 <= n <= len(cases):
            more = "" if args.large else f" ({len(cases) + 1} and on with --large)"
            raise InputError("command line", f"--case #{i + 1}",
                             f"expected an integer from 1 to {len(cases)}{more}, got {n}")
    if args.max_seconds is not None:
        check_bound("command line", "--max-seconds", "max_seconds", args.max_seconds)
    if not 1 <= args.repeat <= MAX_REPEAT:
        raise InputError("command line", "--repeat",
                         f"expected an integer from 1 to {MAX_REPEAT}, got {args.repeat}")
    workers = _workers(args)
    engines = (args.engine,) if args.engine else bench.ENGINES[::-1]  # interpreted first
    what = "search only" if args.no_properties else "search and all properties"
    runs_of = ("one process per configuration and engine" if args.repeat == 1 else
               f"{args.repeat} processes per configuration and engine, the median run shown")
    count = workers or default_workers()
    print(f"stagelock benchmark ({what}; {runs_of}; compiled "
          f"engine: {count} worker{'s' if count != 1 else ''}, {args.storage or 'its own'} "
          f"storage)")
    print(bench.table_row(bench.HEADER))
    for n in chosen:
        case = cases[n - 1]
        runs: dict[str, dict[str, Any]] = {}
        first = True
        for engine in engines:
            if engine not in case.engines:
                cells = [case.label if first else "", engine,
                         f"skipped: {' and '.join(case.engines)} engine only", *[""] * 8]
            else:
                r = bench.median_run([
                    bench.run_case(case, not args.no_properties, args.max_seconds, engine,
                                   workers, args.storage or "auto")
                    for _ in range(args.repeat)])
                runs[engine] = r
                ratio = (bench.ratio(r, runs.get("interpreted"))
                         if engine == "compiled" else None)
                cells = bench.row_cells(r, first, ratio)
            print(bench.table_row(cells), flush=True)
            spread = bench.spread_line(runs.get(engine, {}))
            if spread is not None:
                print(spread, flush=True)
            miss = runs.get(engine, {}).get("miss_probability")
            if miss is not None:
                print(f"{'':42}  probability that some state was missed (fingerprints): at "
                      f"most {miss:.2g}", flush=True)
            first = False
    return 0


# --------------------------------------------------------------------------------------------
# diagram


def _diagram_parser(sub: Any) -> None:
    diagram = sub.add_parser(
        "diagram", help="draw the specification's pictures",
        description="With no subcommand: regenerate every picture under diagrams/ (DOT, "
        "Mermaid and SVG sources, and the index).  Subcommands draw one picture; -o names the "
        "file, whose suffix picks the format (.svg, .png, .dot, ...).")
    diagram.add_argument("--out-dir", default="diagrams", metavar="DIR",
                         help="where to regenerate the pictures (default diagrams)")
    pictures = diagram.add_subparsers(dest="picture", parser_class=_Parser)
    trace = pictures.add_parser("trace", help="a trace file (from check --trace-out) as a "
                                "timeline")
    trace.add_argument("trace_file", metavar="TRACE_FILE")
    graph = pictures.add_parser("graph", help="the reachable state graph of a small "
                                "configuration (default: two stages, 2 executions, no stops, "
                                "retries, toggles or failures)")
    graph.add_argument("file", nargs="?", metavar="DECLARATION")
    graph.add_argument("--mode", choices=list(MODES), help="override the execution mode")
    for name in ("executions", "stops", "retries", "toggles"):
        graph.add_argument(f"--{name}", type=int, metavar="N",
                           help=f"as for check (default {getattr(draw.SMALL_BOUNDS, name)})")
    graph.add_argument("--failures", action="store_true",
                       help="let actions fail and approvals be rejected or time out")
    graph.add_argument("--variant", action="append", default=[], metavar="NAME",
                       help="draw under a rule variant, its violations in red (repeatable)")
    graph.add_argument("--max-graph-states", type=int, metavar="N",
                       default=draw.DEFAULT_GRAPH_LIMIT,
                       help=f"refuse larger graphs (default {draw.DEFAULT_GRAPH_LIMIT})")
    pipeline = pictures.add_parser("pipeline", help="a declaration, drawn like the console "
                                   "(default: the reference pipeline)")
    pipeline.add_argument("file", nargs="?", metavar="DECLARATION")
    pipeline.add_argument("--mode", choices=list(MODES), help="override the execution mode")
    for one in (trace, graph, pipeline):
        one.add_argument("-o", "--output", required=True, metavar="OUT.svg")
        if one is not trace:
            one.add_argument("--resource", metavar="ID",
                             help="the pipeline resource of a CloudFormation template")


def _declared(args: argparse.Namespace) -> Pipeline:
    """The pipeline of a picture's declaration file; the fields the model does not account for
    (which the picture does not show either) are named on standard error, as check names them."""
    source = source_in(args.file, args.resource)
    for w in declaration_config(source).warnings:
        print(f"warning: {w.describe(args.file)}", file=sys.stderr)
    return source.pipeline


def _diagram(args: argparse.Namespace) -> int:
    if args.picture is None:
        written = draw.write_diagrams(Path(args.out_dir))
        print(f"{len(written)} files written under {args.out_dir}")
        return 0
    if args.picture == "trace":
        dot = draw.scenario_timeline_dot(run_scenario(load_scenario(args.trace_file)))
    elif args.picture == "pipeline":
        declared = _declared(args) if args.file else reference_pipeline()
        dot = draw.pipeline_dot(build_model(declared, args.mode))
    else:
        declared = _declared(args) if args.file else draw.two_stage_pipeline()
        bounds = replace(draw.SMALL_BOUNDS, failures=args.failures)
        for name in ("executions", "stops", "retries", "toggles"):
            if getattr(args, name) is not None:
                value = check_bound("command line", f"--{name}", name, getattr(args, name))
                bounds = replace(bounds, **{name: value})  # type: ignore[arg-type]
        limit = check_bound("command line", "--max-graph-states", "max_states",
                            args.max_graph_states)
        for i, name in enumerate(args.variant):
            if name not in VARIANTS:
                raise InputError("command line", f"--variant #{i + 1}",
                                 f"expected a variant name ({', '.join(VARIANTS)}), got {name!r}")
        model = build_model(declared, args.mode, rule_set(args.variant))
        dot = draw.state_graph_dot(draw.state_graph(model, bounds, limit))
    draw.write_picture(dot, Path(args.output))
    return 0


# --------------------------------------------------------------------------------------------
# diff and baseline


def _diff_parsers(sub: Any) -> None:
    diff = sub.add_parser(
        "diff", help="show what a user could observe two rule sets do differently",
        description="Run two rule sets side by side over every interleaving of a bounded "
        "configuration and report each kind of observable difference with a shortest witness, "
        "and the properties whose verdicts differ.  With no FILE: the built-in reference "
        "pipeline in all three modes.")
    diff.add_argument("file", nargs="?", metavar="DECLARATION|MODEL.toml")
    diff.add_argument("--rules", action="append", default=[], metavar="RULES",
                      help="a rule set: documented, a variant, several joined with +, or a "
                           "rules file (.py); give exactly two, BASE then OTHER")
    diff.add_argument("--mode", choices=list(MODES), help="override the execution mode")
    diff.add_argument("--all-modes", action="store_true", help="compare in all three modes")
    for name, default in (("executions", 3), ("stops", 1), ("retries", 1), ("toggles", 1),
                          ("updates", 0), ("rollbacks", 0)):
        diff.add_argument(f"--{name}", type=int, metavar="N", help=f"as for check "
                          f"(default {default})")
    diff.add_argument("--update-modes", metavar="MODE[,MODE]", help="as for check")
    diff.add_argument("--no-failures", action="store_true",
                      help="actions always succeed and approvals are always approved")
    diff.add_argument("--max-states", type=int, metavar="N",
                      help="stop after N product states (and N states per verdict search)")
    diff.add_argument("--resource", metavar="ID",
                      help="the pipeline resource of a CloudFormation template")
    diff.add_argument("--json", action="store_true", help="print the report as JSON")
    diff.add_argument("--trace-out", metavar="FILE",
                      help="write the shortest witness as a scenario file that passes under "
                           "OTHER and fails under BASE")
    diff.add_argument("--limit", type=int, default=10, metavar="K",
                      help="show at most K kinds of difference per mode (default 10)")
    _engine_options(diff)

    baseline = sub.add_parser(
        "baseline", help="record what small configurations do, and check that it still holds",
        description="write: explore each configuration of a configurations file (TOML) and "
        "record its figures, verdicts and observable behaviour.  check: explore them again "
        "and explain what changed.")
    actions = baseline.add_subparsers(dest="action", required=True, parser_class=_Parser)
    write = actions.add_parser("write", help="record a baseline")
    write.add_argument("file", metavar="CONFIGS.toml")
    write.add_argument("-o", "--output", metavar="BASELINE.json",
                       help="where to write it (default CONFIGS.baseline.json)")
    _engine_options(write)
    check = actions.add_parser("check", help="compare with a baseline")
    check.add_argument("file", metavar="BASELINE.json")
    check.add_argument("--limit", type=int, default=5, metavar="K",
                       help="explain at most K added and K removed transitions per "
                            "configuration (default 5)")
    _engine_options(check)


def _diff_or_baseline(args: argparse.Namespace) -> int:
    if args.command == "diff":
        from checker.diff import diff_command

        output = diff_command(args)
    else:
        from checker.baseline import baseline_command

        output = baseline_command(args)
    print(output.stdout)
    for line in output.stderr:
        print(line, file=sys.stderr)
    return output.exit_code


def _lint(args: argparse.Namespace) -> int:
    from checker import lint as hazards

    bounds = hazards.LINT_BOUNDS
    if args.executions is not None:
        bounds = replace(bounds, executions=check_bound("command line", "--executions",
                                                        "executions", args.executions))
    if args.stops is not None:
        bounds = replace(bounds, stops=check_bound("command line", "--stops", "stops",
                                                   args.stops))
    if args.toggles is not None:
        bounds = replace(bounds, toggles=check_bound("command line", "--toggles", "toggles",
                                                     args.toggles))
    report = hazards.lint(args.files, bounds, args.ignore, args.engine or "auto", _workers(args),
                          args.fail_on, args.skip_files_without_pipelines)
    if args.format == "json":
        print(json.dumps(hazards.to_json(report, args.explain), indent=2))
    elif args.format == "sarif":
        from checker.formats.sarif import to_sarif

        print(json.dumps(to_sarif(report), indent=2))
    else:
        print(hazards.render_text(report, args.files, args.explain))
    for error in report.unreadable:
        print(f"{error} (not linted; the other files were)", file=sys.stderr)
    if report.interrupted:
        print(f"Interrupted ({report.interrupted}): the report above covers what was searched "
              "so far.", file=sys.stderr)
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
