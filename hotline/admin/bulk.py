"""Bulk import and export of org units, categories, users and the routing catalogue (issue 20.2).

One file format both ways: a header row, then one row per unit / category / user / route, as CSV (UTF-8, or
GB18030 as Excel writes it on Chinese Windows) or XLSX (the first sheet). An export can be edited and imported
again; importing a file a second time changes nothing.

``import_file`` reads the file, then runs every row through the domain services (hotline.orgs.services,
hotline.tickets.categories, hotline.accounts.services, hotline.tickets.handling), so an import obeys exactly
the rules of the admin pages and audits every change the same way. It returns the plan: per row, created,
changed (column: before -> after) or unchanged, and every bad row with its row number (the spreadsheet's: the
header is row 1), column and reason. It flushes and never commits: the caller commits only when
``result.applied`` (every row valid and ``apply=True``) and rolls back otherwise, so a dry run or a file
with one bad row writes nothing.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from hotline.accounts import services as accounts
from hotline.accounts.models import Role, User
from hotline.core.audit import record_audit
from hotline.core.errors import ValidationFailed
from hotline.core.spreadsheets import FORMULA_START, render
from hotline.extensions import db
from hotline.orgs import services as orgs
from hotline.orgs.models import OrgUnit, UnitKind
from hotline.tickets import categories as taxonomy
from hotline.tickets import handling
from hotline.tickets.models import Category, CategoryRoute

MAX_ROWS = 20_000
FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class Kind:
    name: str  # units, categories, users, routing
    columns: tuple[str, ...]  # read on import, in the order of the export
    required: tuple[str, ...]
    key: str  # the column naming the row's unit, category, user or route
    info: tuple[str, ...] = ()  # written by the export for reading; ignored on import


KINDS = {
    "units": Kind("units", ("code", "name", "name_en", "kind", "parent", "active"), ("code", "name"), "code"),
    "categories": Kind("categories", ("code", "name", "name_en", "parent", "active"), ("code", "name"), "code"),
    "users": Kind(
        "users",
        ("username", "display_name", "phone", "unit", "roles", "active"),
        ("username", "display_name", "unit", "roles"),
        "username",
    ),
    "routing": Kind(
        "routing",
        ("category", "district", "unit"),
        ("category", "district", "unit"),
        "category",
        info=("category_name", "district_name", "unit_name"),
    ),
}
EXPORT_COLUMNS = {
    "routing": ("category", "category_name", "district", "district_name", "unit", "unit_name"),
}


class ImportFileError(Exception):
    """The file as a whole cannot be read (not CSV/XLSX, no header, unknown columns…). Nothing was written."""

    def __init__(self, message):
        self.message = message
        super().__init__(str(message))


class RowProblem(Exception):
    """One or more bad columns of one row."""

    def __init__(self, problems: dict[str, object]):
        self.problems = problems
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}"


@dataclass
class RowPlan:
    row: int
    key: str
    action: str  # create, change, unchanged
    changes: dict[str, tuple] = field(default_factory=dict)


@dataclass
class ImportResult:
    kind: str
    rows: list[RowPlan] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    applied: bool = False

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def counts(self) -> dict[str, int]:
        return {a: self.count(a) for a in ("create", "change", "unchanged")}

    @property
    def has_changes(self) -> bool:
        return any(r.action != "unchanged" for r in self.rows)


# --- reading and writing files ---------------------------------------------------------------------------


def format_for(filename: str | None) -> str | None:
    """csv or xlsx from a file name's suffix, or None."""
    suffix = (filename or "").rsplit(".", 1)[-1].lower() if "." in (filename or "") else ""
    return suffix if suffix in FORMATS else None


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _csv_rows(data: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError(_l("The file is not a CSV file in UTF-8 or GB18030."))
    if "\x00" in text:
        raise ImportFileError(_l("The file is not a CSV file in UTF-8 or GB18030."))
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ImportFileError(_l("The CSV file cannot be read: %(reason)s", reason=str(exc))) from None

    def unquote(value: str) -> str:
        # Our exports put an apostrophe before a text that would start a formula (hotline.core.spreadsheets).
        value = value.strip()
        return value[1:] if value.startswith("'") and value[1:2] in FORMULA_START and value[1:2] else value

    return [[unquote(v) for v in row] for row in rows]


def _xlsx_rows(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        raise ImportFileError(_l("The file is not an XLSX workbook.")) from None
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for values in sheet.iter_rows(values_only=True):
            rows.append([_cell_text(v) for v in values])
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    finally:
        workbook.close()


def read_table(data: bytes, file_format: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header (lower-cased) and the data rows with their row numbers; blank rows are skipped."""
    if file_format not in FORMATS:
        raise ImportFileError(_l("Use a .csv or .xlsx file."))
    rows = _csv_rows(data) if file_format == "csv" else _xlsx_rows(data)
    numbered = [(n, row) for n, row in enumerate(rows, start=1) if any(v for v in row)]
    if not numbered:
        raise ImportFileError(_l("The file is empty: it needs a header row and one row per item."))
    header_row, header = numbered[0][0], [v.strip().lower() for v in numbered[0][1]]
    while header and not header[-1]:
        header.pop()
    data_rows = [(n, row) for n, row in numbered if n > header_row]
    if len(data_rows) > MAX_ROWS:
        raise ImportFileError(_l("The file has more than %(max)d rows; split it.", max=MAX_ROWS))
    return header, data_rows


def _check_header(kind: Kind, header: list[str]) -> None:
    known = set(kind.columns) | set(kind.info)
    unknown = [h for h in header if h not in known]
    if unknown:
        raise ImportFileError(
            _l(
                "Unknown columns: %(columns)s. The columns are: %(expected)s.",
                columns=", ".join(h or "(empty)" for h in unknown),
                expected=", ".join(EXPORT_COLUMNS.get(kind.name, kind.columns)),
            )
        )
    missing = [c for c in kind.required if c not in header]
    if missing:
        raise ImportFileError(_l("Missing columns: %(columns)s.", columns=", ".join(missing)))
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise ImportFileError(_l("Columns appear twice: %(columns)s.", columns=", ".join(repeated)))


def export_table(kind: str) -> tuple[tuple[str, ...], list[list[str]]]:
    """The header and rows of an export: what ``import_file`` reads back without a change."""
    return EXPORT_COLUMNS.get(kind, KINDS[kind].columns), EXPORTERS[kind]()


def export_file(kind: str, file_format: str, *, actor) -> bytes:
    header, rows = export_table(kind)
    record_audit(actor, f"export.{kind}", kind, {"rows": len(rows), "format": file_format})
    return render(file_format, kind, header, rows)


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _export_units() -> list[list[str]]:
    return [
        [u.code, u.name, u.name_en or "", u.kind, u.parent.code if u.parent else "", _yes(u.active)]
        for u in orgs.all_units()
    ]


def _export_categories() -> list[list[str]]:
    rows = []
    for parent, children in taxonomy.category_tree():
        rows.append([parent.code, parent.name, parent.name_en or "", "", _yes(parent.active)])
        rows += [[c.code, c.name, c.name_en or "", parent.code, _yes(c.active)] for c in children]
    return rows


def _export_users() -> list[list[str]]:
    users = db.session.execute(select(User).order_by(User.username)).scalars()
    return [
        [
            u.username,
            u.display_name,
            u.phone or "",
            u.org_unit.code if u.org_unit else "",
            " ".join(accounts.role_pairs(u)),
            _yes(u.active),
        ]
        for u in users
    ]


def _export_routing() -> list[list[str]]:
    routes = list(db.session.execute(select(CategoryRoute)).scalars())
    routes.sort(
        key=lambda r: (
            r.district.code,
            r.category.parent.sort_order if r.category.parent else 0,
            r.category.parent.code if r.category.parent else "",
            r.category.sort_order,
            r.category.code,
        )
    )
    return [
        [r.category.code, r.category.full_name, r.district.code, r.district.name, r.unit.code, r.unit.name]
        for r in routes
    ]


EXPORTERS = {
    "units": _export_units,
    "categories": _export_categories,
    "users": _export_users,
    "routing": _export_routing,
}


# --- importing ---------------------------------------------------------------------------------------------

YES = {"yes", "y", "true", "1", "是", "启用", "active"}
NO = {"no", "n", "false", "0", "否", "停用", "inactive"}


def _active(values: dict, problems: dict) -> bool | None:
    """yes / no, or None (empty: a new row is active, an existing one keeps its state); a bad value is
    added to ``problems``."""
    text = values.get("active", "").strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    if text:
        problems["active"] = _l("Write yes or no.")
    return None


class _Importer:
    """Runs the rows of one kind through the services; deactivations wait until every other row is in."""

    FIELD_COLUMNS: dict[str, str] = {}
    column_of_key = "code"

    def __init__(self, actor: User | str) -> None:  # a user, or the CLI's name for itself
        self.actor = actor
        self.deferred: list[tuple[int, int, Callable[[], object]]] = []  # (order, row, action)

    def row(self, n: int, v: dict) -> RowPlan:
        """Check row ``n`` (``v``: column → text) and run it through the services."""
        raise NotImplementedError

    def column(self, service_field: str | None) -> str:
        return self.FIELD_COLUMNS.get(service_field or "", service_field or self.column_of_key)

    def finish(self) -> list[RowError]:
        errors = []
        for _order, row, action in sorted(self.deferred, key=lambda d: d[0]):
            try:
                action()
            except ValidationFailed as exc:
                errors.append(RowError(row, "active", str(exc.message)))
        return errors


def _changes(pairs) -> dict[str, tuple]:
    return {name: (old, new) for name, old, new in pairs if (old or "") != (new or "")}


def _check_lengths(values: dict, limits: dict[str, int], problems: dict) -> None:
    """What the services leave to the database's column sizes (PostgreSQL refuses a longer text); every
    problem found in the row so far is raised together."""
    problems.update(
        {
            c: _l("At most %(max)d characters.", max=limit)
            for c, limit in limits.items()
            if len(values.get(c, "")) > limit
        }
    )
    if problems:
        raise RowProblem(problems)


class _UnitImporter(_Importer):
    FIELD_COLUMNS = {"parent_id": "parent", "unit": "active", "code": "code", "name": "name", "kind": "kind"}

    def row(self, n: int, v: dict) -> RowPlan:
        problems: dict[str, object] = {}
        code, name, kind, active = v["code"], v["name"], v.get("kind", "").lower(), _active(v, problems)
        unit = orgs.get_unit_by_code(code)
        # A column the file leaves out keeps what the unit has; an empty cell clears it.
        name_en = v["name_en"] if "name_en" in v else (unit.name_en if unit else "") or ""
        parent_code = v["parent"] if "parent" in v else (unit.parent.code if unit and unit.parent else "")
        if (unit is None or kind) and kind not in orgs.PARENT_KINDS:
            problems["kind"] = _l("Write one of: %(kinds)s.", kinds=", ".join(orgs.PARENT_KINDS))
        parent = orgs.get_unit_by_code(parent_code) if parent_code else None
        if parent_code and parent is None:
            problems["parent"] = _l(
                "No unit with the code %(code)s (in the database or an earlier row).", code=parent_code
            )
        _check_lengths(v, {"code": 32, "name": 120, "name_en": 120, "parent": 32}, problems)
        if unit is None:
            unit = orgs.add_unit(actor=self.actor, code=code, name=name, kind=kind, parent=parent, name_en=name_en)
            if active is False:
                self._defer_deactivation(n, unit)
            return RowPlan(n, code, "create", {"name": (None, name)})
        if kind and kind != unit.kind:
            raise RowProblem(
                {"kind": _l("The kind of an existing unit cannot change (it is %(kind)s).", kind=unit.kind)}
            )
        changes = _changes(
            [
                ("name", unit.name, name),
                ("name_en", unit.name_en, name_en or None),
                ("parent", unit.parent.code if unit.parent else None, parent_code or None),
            ]
        )
        if "parent" in changes:
            if parent is None:
                raise RowProblem({"parent": _l("Only the city has no parent unit.")})
            orgs.move_unit(unit, parent, actor=self.actor)
        orgs.rename_unit(unit, actor=self.actor, name=name, name_en=name_en)
        if active is True and not unit.active:
            orgs.activate_unit(unit, actor=self.actor)
            changes["active"] = ("no", "yes")
        elif active is False and unit.active:
            self._defer_deactivation(n, unit)
            changes["active"] = ("yes", "no")
        return RowPlan(n, code, "change" if changes else "unchanged", changes)

    def _defer_deactivation(self, n: int, unit: OrgUnit) -> None:
        # The deepest first: a unit cannot be deactivated while it has active units below.
        self.deferred.append((-unit.depth, n, lambda: orgs.deactivate_unit(unit, actor=self.actor)))


class _CategoryImporter(_Importer):
    FIELD_COLUMNS = {"parent_id": "parent", "category": "active", "code": "code", "name": "name"}

    def __init__(self, actor: User | str) -> None:
        super().__init__(actor)
        self.requested: dict[str, tuple[int, bool | None, str]] = {}  # code -> (row, active, parent code)

    def row(self, n: int, v: dict) -> RowPlan:
        problems: dict[str, object] = {}
        code, name, active = v["code"], v["name"], _active(v, problems)
        category = db.session.execute(select(Category).filter_by(code=code)).scalar_one_or_none()
        # A column the file leaves out keeps what the category has; an empty cell clears it.
        name_en = v["name_en"] if "name_en" in v else (category.name_en if category else "") or ""
        parent_code = v["parent"] if "parent" in v else (category.parent.code if category and category.parent else "")
        parent = None
        if parent_code:
            parent = db.session.execute(select(Category).filter_by(code=parent_code)).scalar_one_or_none()
            if parent is None:
                problems["parent"] = _l(
                    "No category with the code %(code)s (in the database or an earlier row).", code=parent_code
                )
        _check_lengths(v, {"code": 16, "name": 64, "name_en": 120, "parent": 16}, problems)
        self.requested[code] = (n, active, parent_code)
        if category is None:
            category = taxonomy.add_category(actor=self.actor, code=code, name=name, parent=parent, name_en=name_en)
            if active is False:
                self._defer_deactivation(n, category)
            return RowPlan(n, code, "create", {"name": (None, name)})
        current_parent = category.parent.code if category.parent else ""
        if parent_code != current_parent:
            raise RowProblem(
                {
                    "parent": _l(
                        "A category cannot move to another parent (it is under %(parent)s): "
                        "create a new one and deactivate this one.",
                        parent=current_parent or "-",
                    )
                }
            )
        changes = _changes([("name", category.name, name), ("name_en", category.name_en, name_en or None)])
        taxonomy.rename_category(category, actor=self.actor, name=name, name_en=name_en)
        if active is True and not category.active:
            taxonomy.activate_category(category, actor=self.actor)
            changes["active"] = ("no", "yes")
        elif active is False and category.active:
            self._defer_deactivation(n, category)
            changes["active"] = ("yes", "no")
        return RowPlan(n, code, "change" if changes else "unchanged", changes)

    def _defer_deactivation(self, n: int, category: Category) -> None:
        def deactivate():
            if category.active:  # its parent's deactivation may have taken it along
                taxonomy.deactivate_category(category, actor=self.actor)

        self.deferred.append((0 if category.parent_id else 1, n, deactivate))

    def finish(self) -> list[RowError]:
        # A category under one this file deactivates is deactivated with it: a row asking for it active
        # would be undone at once and fail the next import.
        errors = [
            RowError(
                row, "active", str(_l("Its parent category %(parent)s is deactivated in this file.", parent=parent))
            )
            for code, (row, active, parent) in self.requested.items()
            if active is True and parent and self.requested.get(parent, (0, None, ""))[1] is False
        ]
        return errors + super().finish()


def _roles(text: str, unit: OrgUnit) -> list[tuple[Role, OrgUnit]]:
    """``operator@hotline dispatcher@city`` (role@unit code), or a bare role for the user's own unit."""
    roles = []
    for token in text.replace(",", " ").replace(";", " ").replace("，", " ").split():
        role, _sep, scope_code = token.partition("@")
        if role.lower() not in {r.value for r in Role}:
            raise RowProblem(
                {
                    "roles": _l(
                        "Unknown role %(role)s; the roles are: %(roles)s.",
                        role=role,
                        roles=", ".join(r.value for r in Role),
                    )
                }
            )
        scope = orgs.get_unit_by_code(scope_code) if scope_code else unit
        if scope is None:
            raise RowProblem({"roles": _l("No unit with the code %(code)s.", code=scope_code)})
        roles.append((Role(role.lower()), scope))
    if not roles:
        raise RowProblem({"roles": _l("Give the user at least one role.")})
    return roles


class _UserImporter(_Importer):
    FIELD_COLUMNS = {
        "username": "username",
        "org_unit": "unit",
        "roles": "roles",
        "user": "active",
        "display_name": "display_name",
        "phone": "phone",
    }
    column_of_key = "username"

    def row(self, n: int, v: dict) -> RowPlan:
        problems: dict[str, object] = {}
        username, display_name, active = v["username"], v["display_name"], _active(v, problems)
        user = accounts.get_user(username)
        phone = (v["phone"] if "phone" in v else (user.phone if user else "")) or None
        unit = orgs.get_unit_by_code(v["unit"])
        roles: list = []
        if unit is None:
            problems["unit"] = _l("No unit with the code %(code)s.", code=v["unit"])
        else:
            try:
                roles = _roles(v["roles"], unit)
            except RowProblem as bad_roles:
                problems.update(bad_roles.problems)
        _check_lengths(v, {"username": 64, "display_name": 64, "phone": 20}, problems)
        assert unit is not None, "an unknown unit is among the problems _check_lengths raised"
        if user is None:
            user = accounts.create_account_without_password(
                actor=self.actor, username=username, display_name=display_name, unit=unit, roles=roles, phone=phone
            )
            if active is False:
                self.deferred.append((0, n, lambda: accounts.deactivate_user(user, actor=self.actor)))
            return RowPlan(n, username, "create", {"display_name": (None, display_name)})
        before_roles = " ".join(accounts.role_pairs(user))
        changes = _changes(
            [
                ("display_name", user.display_name, display_name),
                ("phone", user.phone, phone),
                ("unit", user.org_unit.code if user.org_unit else None, unit.code),
            ]
        )
        accounts.update_user_details(user, actor=self.actor, display_name=display_name, phone=phone)
        accounts.set_user_unit(user, unit, actor=self.actor)
        accounts.set_user_roles(user, roles, actor=self.actor)
        after_roles = " ".join(accounts.role_pairs(user))
        if after_roles != before_roles:
            changes["roles"] = (before_roles, after_roles)
        if active is True and not user.active:
            accounts.activate_user(user, actor=self.actor)
            changes["active"] = ("no", "yes")
        elif active is False and user.active:
            accounts.deactivate_user(user, actor=self.actor)
            changes["active"] = ("yes", "no")
        return RowPlan(n, username, "change" if changes else "unchanged", changes)


def route_target_allowed(district: OrgUnit, unit: OrgUnit) -> bool:
    """The catalogue page's choice (hotline.tickets.catalogue.routing): a city department, or a unit of the
    district."""
    return (unit.kind == UnitKind.DEPARTMENT.value and unit.depth == 1) or district.contains(unit)


class _RoutingImporter(_Importer):
    column_of_key = "category"

    def row(self, n: int, v: dict) -> RowPlan:
        category = db.session.execute(select(Category).filter_by(code=v["category"])).scalar_one_or_none()
        problems: dict[str, object] = {}
        if category is None:
            problems["category"] = _l("No category with the code %(code)s.", code=v["category"])
        elif category.parent_id is None:
            problems["category"] = _l(
                "Routes are set for second-level categories; %(code)s is a first-level one.", code=category.code
            )
        district = orgs.get_unit_by_code(v["district"])
        if district is None or district.kind != UnitKind.DISTRICT.value:
            problems["district"] = _l("No district with the code %(code)s.", code=v["district"])
        unit = orgs.get_unit_by_code(v["unit"])
        if unit is None:
            problems["unit"] = _l("No unit with the code %(code)s.", code=v["unit"])
        elif not unit.active:
            problems["unit"] = _l("The unit %(name)s is deactivated.", name=unit.name)
        elif district is not None and "district" not in problems and not route_target_allowed(district, unit):
            problems["unit"] = _l(
                "%(unit)s is neither a city department nor a unit of %(district)s.",
                unit=unit.name,
                district=district.name,
            )
        if problems:
            raise RowProblem(problems)
        assert category is not None and district is not None and unit is not None, "each missing one is a problem"
        route = db.session.execute(
            select(CategoryRoute).filter_by(category_id=category.id, district_id=district.id)
        ).scalar_one_or_none()
        key = f"{category.code}@{district.code}"
        if route is not None and route.unit_id == unit.id:
            return RowPlan(n, key, "unchanged")
        before = route.unit.code if route is not None else None
        handling.set_route(category.id, district.id, unit)
        db.session.flush()
        record_audit(
            self.actor,
            "routing.update",
            f"district {district.code}",
            {"category": category.code, "unit": [before, unit.code]},
        )
        return RowPlan(n, key, "create" if route is None else "change", {"unit": (before, unit.code)})


IMPORTERS = {
    "units": _UnitImporter,
    "categories": _CategoryImporter,
    "users": _UserImporter,
    "routing": _RoutingImporter,
}


def import_file(kind: str, data: bytes, file_format: str, *, actor, apply: bool, source: str = "") -> ImportResult:
    """Run every row of the file through the services and return the plan (see the module's docstring).
    Raises ImportFileError for a file that cannot be read at all. The caller commits only when
    ``result.applied`` and rolls back otherwise."""
    spec = KINDS[kind]
    header, rows = read_table(data, file_format)
    _check_header(spec, header)
    importer = IMPORTERS[kind](actor)
    result = ImportResult(kind)
    seen: dict[str, int] = {}
    for n, cells in rows:
        values = {name: (cells[i] if i < len(cells) else "").strip() for i, name in enumerate(header)}
        missing = {c: _l("This column is required.") for c in spec.required if not values.get(c)}
        if missing:
            result.errors += [RowError(n, c, str(m)) for c, m in missing.items()]
            continue
        key = values[spec.key] if kind != "routing" else f"{values['category']}@{values['district']}"
        if key in seen:
            result.errors.append(
                RowError(n, spec.key, str(_l("%(key)s appears again (first in row %(row)d).", key=key, row=seen[key])))
            )
            continue
        seen[key] = n
        try:
            result.rows.append(importer.row(n, values))
        except RowProblem as problem:
            result.errors += [RowError(n, column, str(message)) for column, message in problem.problems.items()]
        except ValidationFailed as exc:
            result.errors += [
                RowError(n, importer.column(name), str(message))
                for name, message in (exc.fields or {None: exc.message}).items()
            ]
        except SQLAlchemyError as exc:  # a rule no service checks: say which row, write nothing
            db.session.rollback()
            raise ImportFileError(
                _l(
                    "Row %(row)d cannot be stored: %(reason)s",
                    row=n,
                    reason=str(getattr(exc, "orig", exc)).splitlines()[0],
                )
            ) from None
    result.errors += importer.finish()
    result.errors.sort(key=lambda e: (e.row, e.column))
    result.applied = apply and not result.errors
    if result.applied and result.has_changes:
        record_audit(actor, f"import.{kind}", source or kind, result.counts)
    return result
