"""``vierstaedte-harvest``: the command city IT runs (from cron) and uses to check files.

Exit codes (stable, for cron and monitoring):
  0  everything harvested (or the file is valid, or was read)
  1  the run failed (or the file was rejected)
  2  usage error: bad arguments, bad config or mapping, a file it cannot read
  3  partial success: some datasets failed, the others were published
  4  another run of this city holds the lock
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from vierstaedte_contract import runs
from vierstaedte_harvest import allocator

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PARTIAL, EXIT_LOCKED = 0, 1, 2, 3, 4
_EXIT_CODES = {
    runs.OK: EXIT_OK,
    runs.PARTIAL: EXIT_PARTIAL,
    runs.FAILED: EXIT_FAILED,
    runs.LOCKED: EXIT_LOCKED,
}


def exit_code(status: str) -> int:
    """The exit code of a run that ended with ``status`` (``vierstaedte_contract.runs``)."""
    return _EXIT_CODES.get(status, EXIT_FAILED)


def _validate(args: argparse.Namespace) -> int:
    from vierstaedte_contract import table
    from vierstaedte_harvest import mapping
    from vierstaedte_harvest.normalise import normalise
    from vierstaedte_harvest.report import REJECTED
    from vierstaedte_harvest.validate import frictionless_errors

    try:
        rules = mapping.load(args.mapping)
    except (mapping.MappingError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    if not args.file.is_file():
        print(f"error: no such file: {args.file}", file=sys.stderr)
        return EXIT_USAGE
    if args.out and not args.out.parent.is_dir():
        print(f"error: no such directory: {args.out.parent}", file=sys.stderr)
        return EXIT_USAGE
    if args.write_rejected and not args.out:
        print("error: --write-rejected writes to --out: give both", file=sys.stderr)
        return EXIT_USAGE
    with _Output(args.out) as output:
        result = normalise(args.file, rules, out=output.path)
        report = result.report.as_dict()
        if args.frictionless and output.path and result.ok:
            report["frictionless_errors"] = frictionless_errors(
                str(output.path), table.descriptor()
            )
            if report["frictionless_errors"]:
                report["verdict"] = REJECTED
        rejected = report["verdict"] == REJECTED
        output.keep = not rejected or args.write_rejected
    text = json.dumps(report, ensure_ascii=False, indent=2)
    if args.report:
        args.report.write_text(text + "\n", encoding="utf-8")
        print(
            f"{report['verdict']}: {report['rows_in']} rows in, "
            f"{report['rows_out']} observations out; errors {report['error_counts'] or 0}, "
            f"warnings {report['warning_counts'] or 0}; report: {args.report}"
        )
    else:
        print(text)
    if args.out and rejected:
        if output.written:
            message = f"rejected: {args.out} written anyway (--write-rejected)"
        elif args.write_rejected:
            message = f"rejected: {args.out} not written, the table has no rows it could map"
        else:
            message = f"rejected: {args.out} not written; --write-rejected writes its rows anyway"
        print(message, file=sys.stderr)
    return EXIT_FAILED if rejected else EXIT_OK


class _Output:
    """``validate -o``: the table is written beside its destination and moved there only if kept.

    A rejected table must not look like a result, so without ``--write-rejected`` nothing
    appears at the destination (an older file there stays as it was), and a run that fails
    or is interrupted half-way leaves no partial file either.
    """

    def __init__(self, destination: Path | None):
        self.destination = destination
        self.path: Path | None = None  # where normalise writes; None without a destination
        self.keep = False  # move it to the destination at the end
        self.written = False  # it was

    def __enter__(self) -> _Output:
        if self.destination is not None:
            # hidden, in the same directory (a rename, not a copy); ".csv": frictionless reads it
            name = f".{self.destination.name}.{os.getpid()}.partial.csv"
            self.path = self.destination.with_name(name)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.path is None:
            return
        if self.keep and exc[0] is None and self.path.exists():
            os.replace(self.path, self.destination)
            self.written = True
        else:
            self.path.unlink(missing_ok=True)


def _token(args: argparse.Namespace) -> str | None:
    """The API token from --token-file, VIERSTAEDTE_API_TOKEN_FILE or VIERSTAEDTE_API_TOKEN.

    Never from the command line, where every user of the host could read it.
    """
    path = args.token_file or os.environ.get("VIERSTAEDTE_API_TOKEN_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").strip() or None
    return os.environ.get("VIERSTAEDTE_API_TOKEN") or None


def _run(args: argparse.Namespace) -> int:
    from vierstaedte_harvest import config as city_config
    from vierstaedte_harvest.run import Options, execute

    try:
        city_config.load(args.city, args.config)
        token = _token(args)
    except (city_config.ConfigError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    if not token:
        print(
            "error: no API token: set VIERSTAEDTE_API_TOKEN_FILE (a file holding the token of "
            "the city's harvester user) or pass --token-file",
            file=sys.stderr,
        )
        return EXIT_USAGE
    options = Options(
        city=args.city,
        ckan_url=args.ckan_url,
        token=token,
        state_dir=args.state_dir,
        config_path=args.config,
        dry_run=args.dry_run,
        since=args.since,
        progress=sys.stderr.isatty() and not args.no_progress,
        work_dir=args.work_dir,
        workers=args.workers,
        allow_withdraw=args.allow_withdraw,
    )
    outcome = execute(options)
    report = outcome.report
    counts = report.get("counts", {})
    summary = ", ".join(f"{k} {v}" for k, v in counts.items()) or report.get("message", "")
    print(f"{args.city}: {report['status']} ({summary}); report: {report.get('report_file', '-')}")
    for problem in report.get("source_errors", []):
        print(f"  source: {problem['code']}: {problem['message']}", file=sys.stderr)
    for entry in report.get("datasets", []):
        for error in entry.get("errors", [])[:3]:
            print(
                f"  {entry['ckan_name']}: {entry['status']}: {error['code']}: {error['message']}",
                file=sys.stderr,
            )
    return exit_code(outcome.status)


def _council_run(args: argparse.Namespace) -> int:
    """``council run CITY``: the city's OParl system into the portal (``council/run.py``)."""
    from vierstaedte_harvest import config as city_config
    from vierstaedte_harvest.council.run import Options, execute

    try:
        loaded = city_config.load(args.city, args.config)
        token = _token(args)
    except (city_config.ConfigError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    if loaded.council is None:
        print(f"error: {loaded.path} has no council section (council: url: …)", file=sys.stderr)
        return EXIT_USAGE
    if not token:
        print("error: no API token: set VIERSTAEDTE_API_TOKEN_FILE", file=sys.stderr)
        return EXIT_USAGE
    report = execute(
        Options(
            city=args.city,
            ckan_url=args.ckan_url,
            token=token,
            state_dir=args.state_dir,
            config_path=args.config,
            progress=sys.stderr.isatty() and not args.no_progress,
            work_dir=args.work_dir,
        )
    )
    counts = report.get("counts", {})
    summary = ", ".join(f"{k} {v}" for k, v in counts.items() if v) or report.get("message", "")
    print(
        f"{args.city} council: {report['status']} ({summary or 'nothing new'}); "
        f"report: {report.get('report_file', '-')}"
    )
    for problem in report.get("source_errors", [])[:20]:
        print(f"  {problem['code']}: {problem['message']}", file=sys.stderr)
    for warning in report.get("warnings", [])[:20]:
        print(f"  warning: {warning['code']}: {warning['message']}", file=sys.stderr)
    return exit_code(report["status"])


def _status(args: argparse.Namespace) -> int:
    latest = args.state_dir / "reports" / args.city / "latest.json"
    if not latest.exists():
        print(f"{args.city}: no run yet (looked for {latest})")
        return EXIT_OK
    report = json.loads(latest.read_text(encoding="utf-8"))
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(
            f"{args.city}: last run {report.get('started')} → {report.get('finished')}: "
            f"{report['status']}"
        )
        print("  " + ", ".join(f"{k} {v}" for k, v in report.get("counts", {}).items()))
        for entry in report.get("datasets", []):
            if entry["status"] in runs.PROBLEM_STATUSES:
                first = (entry.get("errors") or [{"code": "?", "message": ""}])[0]
                print(
                    f"  {entry['status']}: {entry['ckan_name']}: {first['code']}: "
                    f"{first['message']}"
                )
    return exit_code(report["status"])


def _list_sources(args: argparse.Namespace) -> int:
    from vierstaedte_harvest import config as city_config
    from vierstaedte_harvest.fetch import Fetcher
    from vierstaedte_harvest.sources import SourceError, reader

    if not (args.city or args.config or args.from_file):
        print(
            "error: list-sources needs a CITY, --config FILE or --from-file PATH", file=sys.stderr
        )
        return EXIT_USAGE
    config = None
    if args.city or args.config:
        try:
            config = city_config.load(args.city or city_config.city_of(args.config), args.config)
        except city_config.ConfigError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_USAGE
    if args.from_file:
        return _list_file(args.from_file, config)
    listing = reader(config.protocol)(Fetcher(config.http), config.source)
    try:
        for source in listing:
            _print_source(source, config)
    except SourceError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        _print_skipped(listing)
    return EXIT_OK


def _print_source(source, config) -> None:
    """One line per dataset: source id, title, how a run would handle it; its notes on stderr."""
    if config is None:
        formats = ", ".join(dict.fromkeys(r.format or "?" for r in source.resources))
        how = f"no city config; files: {formats or 'none'}"
    else:
        rule, table = config.table_for(source)
        how = (
            f"normalised with {rule.mapping.id} from {table.url}"
            if rule
            else "metadata and links only"
        )
    print(f"{source.guid}\t{source.title}\t{how}")
    for code, message in source.notes:
        print(f"  {source.guid}: {code}: {message}", file=sys.stderr)


def _print_skipped(listing) -> None:
    for skipped in listing.skipped:
        print(f"{skipped.guid}\t{skipped.title}\tskipped: not a dataset ({skipped.kind})")


def _list_file(path: Path, config) -> int:
    """``list-sources --from-file``: a saved payload, read by the reader a run would use."""
    from vierstaedte_harvest import localfile
    from vierstaedte_harvest.sources import SourceError, reader, settings_class

    try:
        payload = localfile.identify(path)
    except localfile.PayloadError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    if payload.kind == localfile.TABLE:
        return _show_table(payload, config)
    print(f"{path}: {payload.what}, read by the {payload.kind} reader", file=sys.stderr)
    if payload.names:
        for name in payload.names:
            print(f"{name}\t\tonly its name: package_list holds no metadata")
        return EXIT_OK
    fetcher = localfile.LocalFetcher(payload)
    listing = reader(payload.kind)(
        fetcher, settings_class(payload.kind)(**localfile.reader_settings(payload, config))
    )
    try:
        for source in listing:
            _print_source(source, config)
    except SourceError as error:
        problem = error
    else:
        return EXIT_OK
    finally:
        _print_skipped(listing)
    if fetcher.further:
        print(
            f"note: {path.name} holds one page of a longer listing; the next one "
            f"({fetcher.further}) is not read, so the listing is incomplete",
            file=sys.stderr,
        )
    elif listing.datasets or listing.skipped:
        print(f"note: {problem}", file=sys.stderr)
    else:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _show_table(payload, config) -> int:
    """What the table reader sees in a file and, if a ``tables`` rule matches it, the engine."""
    from vierstaedte_harvest.localfile import table_view
    from vierstaedte_harvest.report import TableRejected

    try:
        view = table_view(payload, config)
    except TableRejected as rejected:
        issue = rejected.issue
        print(
            f"error: {payload.path}: the table reader refuses it: {issue.code}: {issue.message}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    reading = view.reading
    print(f"{payload.path}: {payload.what}, read as {reading['format']}")
    for key in ("sheet", "encoding", "delimiter"):
        if key in reading:
            print(f"  {key}: {reading[key]!r}")
    skipped = reading["skipped_title_rows"]
    print(
        f"  title block: {skipped} row(s)" + "".join(f"\n    {line}" for line in reading["title"])
    )
    print(f"  header: row {skipped + 1}, {reading['header_rows']} row(s) deep")
    columns = view.report.columns if view.report else {}
    print(f"  columns: {len(reading['columns'])}")
    for position, name in enumerate(reading["columns"], start=1):
        found = columns.get(name) or columns.get(f"column {position}")
        print(f"  {position:>4}  {name or '(no header)'}" + (f"\t{_role(found)}" if found else ""))
    if config is None:
        print("  no city config: give --config (or CITY) to see how its table rules classify it")
    elif view.report is None:
        print(f"  no table rule of {config.path} matches {payload.path.name}")
    else:
        report = view.report
        print(
            f"  table rule {view.rule} of {config.path} (mapping {report.source}): "
            f"{report.verdict}; {report.rows_in} rows in, {report.rows_out} observations out"
        )
        for issue in report.errors[:10] + report.warnings[:10]:
            print(f"    {issue.code}: {issue.message}")
    return EXIT_OK


def _role(column: dict) -> str:
    """A column as the engine classified it: its role, and a value column's fields."""
    fields = ", ".join(f"{k} {v}" for k, v in column.items() if k != "role" and v is not None)
    return f"{column['role']}: {fields}" if fields else column["role"]


def _workers(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 16:
        raise argparse.ArgumentTypeError(f"a whole number from 1 to 16, not {text!r}")
    return int(text)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a whole number ≥ 1, not {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vierstaedte-harvest",
        description=__doc__.splitlines()[0],
        epilog="\n".join(__doc__.splitlines()[2:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    validate = commands.add_parser("validate", help="normalise one local file and print the report")
    validate.add_argument("file", type=Path, help="CSV or XLSX file as the city publishes it")
    validate.add_argument(
        "--mapping", "-m", type=Path, required=True, help="the source's mapping (YAML)"
    )
    validate.add_argument(
        "--out", "-o", type=Path, help="write the normalised CSV here (if the table is accepted)"
    )
    validate.add_argument(
        "--write-rejected",
        action="store_true",
        help="with --out: write the rows of a rejected table too, cells that failed to parse "
        "marked value_status invalid (for inspection; never publish it)",
    )
    validate.add_argument(
        "--report", "-r", type=Path, help="write the JSON report here instead of stdout"
    )
    validate.add_argument(
        "--frictionless",
        action="store_true",
        help="also validate --out with frictionless, the reference implementation (slower)",
    )
    validate.set_defaults(handler=_validate)

    state_home = Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state"))
    state_default = Path(
        os.environ.get("VIERSTAEDTE_STATE_DIR") or state_home / "vierstaedte-harvest"
    )
    from vierstaedte_contract import cities as members  # the contract's list: a new city is data

    cities = members.names()
    run = commands.add_parser("run", help="harvest one city into CKAN")
    run.add_argument("city", choices=cities)
    run.add_argument(
        "--config", type=Path, help="city config (default: the one shipped for the city)"
    )
    run.add_argument(
        "--ckan-url",
        default=os.environ.get("VIERSTAEDTE_CKAN_URL", "http://127.0.0.1:5000"),
        help="CKAN to publish to (env VIERSTAEDTE_CKAN_URL; default %(default)s)",
    )
    run.add_argument(
        "--token-file",
        type=Path,
        help="file holding the API token (env VIERSTAEDTE_API_TOKEN_FILE)",
    )
    run.add_argument(
        "--state-dir",
        type=Path,
        default=state_default,
        help="state, lock and reports (default %(default)s)",
    )
    run.add_argument(
        "--work-dir",
        type=Path,
        default=os.environ.get("VIERSTAEDTE_WORK_DIR") or None,
        help="where downloads are kept while a dataset is harvested (env "
        "VIERSTAEDTE_WORK_DIR; default: the system's temporary directory)",
    )
    run.add_argument(
        "--dry-run", action="store_true", help="fetch and validate, but write nothing to CKAN"
    )
    run.add_argument(
        "--since", help="only consider datasets the source modified on or after this ISO date"
    )
    run.add_argument(
        "--workers",
        type=_workers,
        default=2,
        metavar="N",
        help="datasets harvested at once (default %(default)s); keep it below the "
        "number of CKAN's web workers, so the portal keeps answering during a harvest",
    )
    run.add_argument(
        "--allow-withdraw",
        type=_positive,
        default=0,
        metavar="N",
        help="an operator's confirmation, never for cron: this run may withdraw up to "
        "N datasets (even all), more than source.max_withdraw allows",
    )
    run.add_argument(
        "--no-progress", action="store_true", help="log lines instead of a progress bar"
    )
    run.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="debug logging"
    )
    run.set_defaults(handler=_run)

    council = commands.add_parser("council", help="council information (OParl)")
    council_commands = council.add_subparsers(dest="council_command", required=True)
    council_run = council_commands.add_parser(
        "run", help="harvest one city's OParl system into the portal"
    )
    council_run.add_argument("city", choices=cities)
    for option in ("--config", "--ckan-url", "--token-file", "--state-dir", "--work-dir"):
        action = next(a for a in run._actions if option in a.option_strings)
        council_run.add_argument(option, type=action.type, default=action.default, help=action.help)
    council_run.add_argument(
        "--no-progress", action="store_true", help="log lines instead of a progress bar"
    )
    council_run.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="debug logging"
    )
    council_run.set_defaults(handler=_council_run)

    status = commands.add_parser("status", help="show the last run of a city")
    status.add_argument("city", choices=cities)
    status.add_argument("--state-dir", type=Path, default=state_default)
    status.add_argument("--json", action="store_true", help="print the whole JSON report")
    status.set_defaults(handler=_status)

    sources = commands.add_parser(
        "list-sources", help="list what a city's source offers and how it would be handled"
    )
    sources.add_argument(
        "city", nargs="?", choices=cities, help="the city (default: the one --config names)"
    )
    sources.add_argument(
        "--config", type=Path, help="city config (default: the one shipped for the city)"
    )
    sources.add_argument(
        "--from-file",
        type=Path,
        metavar="PATH",
        help="read a saved payload instead of the source: a DCAT catalogue page (RDF/XML, "
        "Turtle), a CKAN package_search, package_show or package_list answer, an "
        "Opendatasoft catalogue page, a manifest, or a table (CSV, XLSX)",
    )
    sources.set_defaults(handler=_list_sources)
    return parser


def _keep_ckan_out() -> None:
    """Run as on a harvester-only host, also where CKAN is installed beside the harvester.

    The harvester talks to CKAN over HTTP only. Where CKAN is importable (the docker image, the
    local stack), ckanapi imports all of it, a noticeable part of every run, only to reuse its
    exception classes, and then raises other classes than on a city IT host without CKAN. A
    ``None`` entry in ``sys.modules`` makes ``import ckan`` fail, so ckanapi defines its own, as
    it does there.
    """
    if "ckan" not in sys.modules:  # a process that already runs CKAN keeps it
        sys.modules["ckan"] = None  # type: ignore[assignment]


def main(argv: list[str] | None = None) -> int:
    _keep_ckan_out()
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    allocator.return_freed_memory()
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
