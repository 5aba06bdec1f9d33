"""``flask orgs|categories|users|routing import FILE [--dry-run]`` and ``… export FILE`` (hotline.admin.bulk).

The format comes from the file's suffix (.csv or .xlsx); ``-`` reads or writes CSV on stdin / stdout. Exit
codes: 0 done (or a clean dry run), 1 a bad file or bad rows (nothing written), 2 a usage error.
"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from hotline.accounts.cli import users_cli
from hotline.admin import bulk
from hotline.extensions import db
from hotline.search.cli import routing_cli

orgs_cli = AppGroup("orgs", help="The org tree: import and export units.")
categories_cli = AppGroup("categories", help="The category tree: import and export categories.")

ACTOR = "cli"
ACTIONS = {"create": "create", "change": "change", "unchanged": "unchanged"}


def _file_format(path: str) -> str:
    if path == "-":
        return "csv"
    file_format = bulk.format_for(path)
    if file_format is None:
        raise click.UsageError(f"{path}: use a file ending in .csv or .xlsx, or - for CSV on stdin/stdout")
    return file_format


def _print_result(result: bulk.ImportResult, *, dry_run: bool) -> None:
    for plan in result.rows:
        if plan.action == "unchanged":
            continue
        details = "; ".join(f"{c}: {old or '-'} -> {new or '-'}" for c, (old, new) in plan.changes.items())
        click.echo(f"row {plan.row}: {plan.action} {plan.key}" + (f" ({details})" if details else ""))
    for error in result.errors:
        click.echo(str(error), err=True)
    counts = result.counts
    summary = f"{counts['create']} to create, {counts['change']} to change, {counts['unchanged']} unchanged"
    if result.errors:
        click.echo(f"{len(result.errors)} problems in the file: nothing was written ({summary})", err=True)
    elif dry_run:
        click.echo(f"dry run: {summary}; nothing was written")
    else:
        click.echo(summary.replace("to create", "created").replace("to change", "changed"))


def _import(kind: str, path: str, dry_run: bool) -> None:
    file_format = _file_format(path)
    try:
        data = sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()
    except OSError as exc:
        raise click.ClickException(f"{path}: {exc.strerror}") from None
    try:
        result = bulk.import_file(kind, data, file_format, actor=ACTOR, apply=not dry_run, source=path)
    except bulk.ImportFileError as exc:
        db.session.rollback()
        raise click.ClickException(f"{path}: {exc.message}") from None
    if result.applied:
        db.session.commit()
    else:
        db.session.rollback()
    _print_result(result, dry_run=dry_run)
    if result.errors:
        sys.exit(1)


def _export(kind: str, path: str) -> None:
    file_format = _file_format(path)
    data = bulk.export_file(kind, file_format, actor=ACTOR)
    db.session.commit()  # the export's audit row
    if path == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        with open(path, "wb") as out:
            out.write(data)
    except OSError as exc:
        raise click.ClickException(f"{path}: {exc.strerror}") from None
    click.echo(f"wrote {path}", err=True)


def _commands(group: AppGroup, kind: str, noun: str) -> None:
    @group.command("import")
    @click.argument("path", metavar="FILE")
    @click.option("--dry-run", is_flag=True, help="Show what would be created and changed; write nothing.")
    def import_command(path, dry_run):
        _import(kind, path, dry_run)

    @group.command("export")
    @click.argument("path", metavar="FILE")
    def export_command(path):
        _export(kind, path)

    columns = ", ".join(bulk.EXPORT_COLUMNS.get(kind, bulk.KINDS[kind].columns))
    import_command.help = (
        f"Import {noun} from FILE (.csv or .xlsx, - for CSV on stdin). Columns: {columns}. "
        "Nothing is written unless every row is valid; importing the same file again "
        "changes nothing."
    )
    export_command.help = f"Export {noun} to FILE (.csv or .xlsx, - for CSV on stdout), in the import's columns."


_commands(orgs_cli, "units", "org units")
_commands(categories_cli, "categories", "categories")
_commands(users_cli, "users", "users (imported users get no usable password: use set-password)")
_commands(routing_cli, "routing", "the routing catalogue (category -> lead unit per district)")
