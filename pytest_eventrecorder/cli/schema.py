"""``schema``: infer a schema from recordings, check recordings against one, report drift."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import click
import yaml

from ..cassette import RecordedEvent
from ..formats import atomic_writer, cassette_format
from ..schema import (
    SchemaError,
    asyncapi_document,
    check,
    drift,
    infer,
    json_schema_document,
    payloads,
)
from .errors import EXIT_FAILED, CliError
from .inputs import open_input

FORMATS = ("asyncapi", "jsonschema")


@click.command("schema", short_help="Infer a schema from recordings; check or compare one.")
@click.argument("files", nargs=-1, metavar="FILE...")
@click.option("-o", "--output", metavar="OUT", help="Write the schema here (.yaml/.yml/.json).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="asyncapi",
    show_default=True,
    help="AsyncAPI 3.0, or one plain JSON Schema for a whole recorded event.",
)
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
@click.option("--check", "check_doc", metavar="SCHEMA", help="Check FILE... against SCHEMA.")
@click.option(
    "--diff", "diff_docs", nargs=2, metavar="OLD NEW", help="Report drift from OLD to NEW."
)
@click.pass_context
def schema(
    ctx: click.Context,
    files: tuple[str, ...],
    output: str | None,
    fmt: str,
    force: bool,
    check_doc: str | None,
    diff_docs: tuple[str, str] | None,
) -> None:
    """Infer, from one or more recordings, a JSON Schema of event_data per event name:
    types, required and optional fields, enums for small closed sets, date-time, date and
    UUID formats, number ranges. Written as an AsyncAPI 3.0 document (a channel per event
    name, with its sources) or, with --format jsonschema, as plain JSON Schema.

    --check validates recordings against a schema and exits 1 listing every violation
    (needs the [schema] extra). --diff compares two schemas, or two recordings, or one of
    each, and exits 1 listing added, removed and retyped fields.

    \b
    Examples:
      eventrecorder schema recordings/*.jsonl -o asyncapi.yaml
      eventrecorder schema --check asyncapi.yaml recordings/today.jsonl
      eventrecorder schema --diff asyncapi.yaml recordings/today.jsonl
    """
    if diff_docs is not None:
        _refuse_extra(files, "--diff takes its two inputs and no FILE")
        ctx.exit(_report_drift(*diff_docs))
    if not files:
        raise click.UsageError("give at least one recording (FILE...)")
    if check_doc is not None:
        ctx.exit(_report_violations(check_doc, files))
    channels = infer(_events(files))
    title = "Events recorded in " + ", ".join(Path(f).name for f in files)
    build = asyncapi_document if fmt == "asyncapi" else json_schema_document
    doc = build(channels, title)
    if output is None:
        click.echo(_dump(doc, "yaml" if fmt == "asyncapi" else "json"), nl=False)
        return
    _write(Path(output), doc, force=force, inputs=files)
    names = sum(1 for _ in channels)
    click.echo(f"wrote a schema of {names} event name{'s' * (names != 1)} to {output}", err=True)


def _refuse_extra(files: Sequence[str], message: str) -> None:
    if files:
        raise click.UsageError(message)


def _events(files: Sequence[str]) -> Iterator[RecordedEvent]:
    return itertools.chain.from_iterable(open_input(name).events() for name in files)


def _report_violations(doc_path: str, files: Sequence[str]) -> int:
    doc = _load_document(Path(doc_path))
    failed = False
    for name in files:
        count = 0
        try:
            for violation in check(doc, open_input(name).events()):
                count += 1
                click.echo(f"{name}: {violation}")
        except SchemaError as exc:
            raise CliError(f"{doc_path}: {exc}") from None
        failed = failed or bool(count)
        if not count:
            click.echo(f"{name}: ok, every event matches {doc_path}")
    return EXIT_FAILED if failed else 0


def _report_drift(old: str, new: str) -> int:
    lines = drift(_payloads_of(old), _payloads_of(new))
    for line in lines:
        click.echo(line)
    if not lines:
        click.echo(f"no drift between {old} and {new}")
    return EXIT_FAILED if lines else 0


def _payloads_of(name: str) -> dict[str, dict[str, Any]]:
    """A schema document's payloads, or those inferred from a recording."""
    path = Path(name)
    if cassette_format(path)[0] != "jsonl" and path.is_file():
        doc = _load_document(path)
        if isinstance(doc, dict) and ("asyncapi" in doc or "$defs" in doc):
            return _checked_payloads(doc, name)
    channels = infer(_events([name]))
    return _checked_payloads(asyncapi_document(channels, name), name)


def _checked_payloads(doc: object, name: str) -> dict[str, dict[str, Any]]:
    try:
        return payloads(doc)
    except SchemaError as exc:
        raise CliError(f"{name}: {exc}") from None


def _load_document(path: Path) -> Any:
    if not path.is_file():
        raise CliError(f"{path}: no such file")
    text = path.read_text(encoding="utf-8")
    try:
        return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise CliError(f"{path}: not a readable schema document ({exc})") from None


def _write(path: Path, doc: dict[str, Any], *, force: bool, inputs: Sequence[str]) -> None:
    if path.suffix not in (".json", ".yaml", ".yml"):
        raise CliError(f"{path}: the schema is written as .yaml, .yml or .json")
    if any(path.resolve() == Path(name).resolve() for name in inputs):
        raise CliError(f"{path}: is one of the recordings read; choose another file")
    if path.exists() and not force:
        raise CliError(f"{path}: exists; pass --force to replace it")
    text = _dump(doc, "json" if path.suffix == ".json" else "yaml")
    with atomic_writer(path) as out:
        out.write(text.encode("utf-8"))


def _dump(doc: dict[str, Any], kind: str) -> str:
    if kind == "json":
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
