"""/admin/users, /admin/units, /admin/categories, /admin/api-keys: validate, authorise, call one service, commit."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from hotline.accounts import services as accounts
from hotline.accounts.decorators import permission_required
from hotline.accounts.forms import ConfirmForm
from hotline.accounts.models import Role, User
from hotline.accounts.queries import user_list
from hotline.admin.forms import (
    ApiKeyForm,
    CategoryForm,
    EditUserForm,
    MoveUnitForm,
    RenameCategoryForm,
    RenameUnitForm,
    ResetPasswordForm,
    UnitForm,
    UserForm,
)
from hotline.api import services as api_keys
from hotline.core.errors import DomainError
from hotline.core.forms import add_errors, options
from hotline.extensions import db
from hotline.orgs import services as orgs
from hotline.orgs.models import OrgUnit
from hotline.permissions import can_administer
from hotline.tickets import categories as taxonomy
from hotline.tickets.models import Category

bp = Blueprint("admin", __name__, url_prefix="/admin")
USERS_PER_PAGE = 50


@bp.before_request
@permission_required(can_administer)
def admins_only():
    return None


def _units(include_inactive=False) -> list[OrgUnit]:
    query = select(OrgUnit).order_by(OrgUnit.path)
    if not include_inactive:
        query = query.where(OrgUnit.active)
    return list(db.session.execute(query).scalars())


def _unit_choices(units, blank=None) -> list[tuple]:
    top = min((u.depth for u in units), default=0)
    choices = [("", blank)] if blank else []
    return choices + [(u.id, "\u3000" * (u.depth - top) + (u.name or u.code)) for u in units]


def _role_choices() -> list[tuple[str, str]]:
    from hotline.tickets.labels import label

    return [(r.value, label("role", r.value)) for r in Role]


def _prepare(form, units):
    form.org_unit_id.choices = options(_unit_choices(units, _("Choose a unit…")))
    form.scope_unit_id.choices = options(_unit_choices(units, _("The user's unit")))
    form.roles.choices = options(_role_choices())


def _roles_from(form, units_by_id) -> tuple[OrgUnit | None, list]:
    unit = units_by_id.get(form.org_unit_id.data)
    scope = units_by_id.get(form.scope_unit_id.data) or unit
    if unit is None:
        form.org_unit_id.errors = list(form.org_unit_id.errors) + [_("Choose an active unit.")]
        return None, []
    return unit, [(Role(r), scope) for r in form.roles.data]


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


# --- users --------------------------------------------------------------------------------------------------


@bp.route("/users")
def users():
    units = _units(include_inactive=True)
    units_by_id = {u.id: u for u in units}
    filters = {
        "q": (request.args.get("q") or "").strip()[:64],
        "unit": request.args.get("unit", type=int),
        "role": request.args.get("role") if request.args.get("role") in {r.value for r in Role} else "",
        "active": request.args.get("active") if request.args.get("active") in ("1", "0") else "",
    }
    query = user_list(
        text=filters["q"] or None,
        unit=units_by_id.get(filters["unit"]),
        role=filters["role"] or None,
        active={"1": True, "0": False}.get(filters["active"]),
    )
    page = db.paginate(query, page=request.args.get("page", 1, type=int), per_page=USERS_PER_PAGE, error_out=False)
    return render_template(
        "admin/users.html",
        page=page,
        filters=filters,
        units=units,
        roles=_role_choices(),
        args={k: v for k, v in filters.items() if v},
    )


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    units = _units()
    form = UserForm()
    _prepare(form, units)
    if form.validate_on_submit():
        unit, roles = _roles_from(form, {u.id: u for u in units})
        if unit is not None:
            try:
                user, password = accounts.create_account(
                    actor=current_user,
                    username=form.username.data,
                    display_name=form.display_name.data,
                    unit=unit,
                    roles=roles,
                    password=form.password.data or None,
                    phone=form.phone.data,
                )
                db.session.commit()
            except DomainError as exc:
                db.session.rollback()
                add_errors(form, exc, "username")
            else:
                # Rendered, not flashed: a flash would carry the password in the session cookie.
                return render_template("admin/password_once.html", user=user, password=password, created=True)
    return render_template("admin/user_form.html", form=form, user=None), 400 if form.errors else 200


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id):
    user = _user_or_404(user_id)
    units = _units()
    form = EditUserForm(obj=user) if request.method == "GET" else EditUserForm()
    _prepare(form, units)
    if request.method == "GET":
        form.roles.data = sorted({r.role for r in user.roles})
        scopes = {r.scope_unit_id for r in user.roles}
        form.scope_unit_id.data = scopes.pop() if len(scopes) == 1 and scopes != {user.org_unit_id} else None
    if form.validate_on_submit():
        unit, roles = _roles_from(form, {u.id: u for u in units})
        if unit is not None:
            try:
                accounts.update_user(
                    user, actor=current_user, display_name=form.display_name.data, unit=unit, roles=roles
                )
                db.session.commit()
            except DomainError as exc:
                db.session.rollback()
                add_errors(form, exc, "roles")
            else:
                flash(_("Saved %(name)s.", name=user.username), "success")
                return redirect(url_for(".edit_user", user_id=user.id))
    return render_template(
        "admin/user_form.html", form=form, user=user, confirm=ConfirmForm(), reset=ResetPasswordForm()
    ), 400 if form.errors else 200


USER_ACTIONS = {
    "deactivate": accounts.deactivate_user,
    "activate": accounts.activate_user,
    "unlock": accounts.unlock_sign_in,
}


@bp.route("/users/<int:user_id>/<any(deactivate, activate, unlock):action>", methods=["POST"])
def user_action(user_id, action):
    user = _user_or_404(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        USER_ACTIONS[action](user, actor=current_user)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
    else:
        flash(
            {
                "deactivate": _(
                    "%(name)s is deactivated: their sessions and API tokens have ended.", name=user.username
                ),
                "activate": _("%(name)s can sign in again.", name=user.username),
                "unlock": _("Sign-in for %(name)s is unlocked.", name=user.username),
            }[action],
            "success",
        )
    return redirect(url_for(".edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
def reset_password(user_id):
    user = _user_or_404(user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            password = accounts.reset_password(user, actor=current_user, password=form.password.data or None)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "danger")
        else:
            return render_template("admin/password_once.html", user=user, password=password, created=False)
    else:
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "danger")
    return redirect(url_for(".edit_user", user_id=user.id))


# --- units --------------------------------------------------------------------------------------------------


def _unit_or_404(unit_id: int) -> OrgUnit:
    unit = db.session.get(OrgUnit, unit_id)
    if unit is None:
        abort(404)
    return unit


def _kind_choices() -> list[tuple[str, str]]:
    from hotline.tickets.labels import label

    return [(kind, label("unit_kind", kind)) for kind in orgs.PARENT_KINDS]


@bp.route("/units", methods=["GET", "POST"])
def units():
    tree = orgs.all_units()
    active = [u for u in tree if u.active]
    form = UnitForm()
    form.kind.choices = options(_kind_choices())
    form.parent_id.choices = options(_unit_choices(active, _("None (the city itself)")))
    if request.method == "GET" and request.args.get("parent", type=int):
        form.parent_id.data = request.args.get("parent", type=int)
    if form.validate_on_submit():
        try:
            unit = orgs.add_unit(
                actor=current_user,
                code=form.code.data,
                name=form.name.data,
                kind=form.kind.data,
                parent={u.id: u for u in active}.get(form.parent_id.data),
                name_en=form.name_en.data,
            )
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            add_errors(form, exc, "parent_id")
        else:
            flash(_("Unit %(name)s created.", name=unit.name), "success")
            return redirect(url_for(".units", _anchor=f"unit-{unit.id}"))
    return render_template("admin/units.html", tree=tree, form=form), 400 if form.errors else 200


@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
def edit_unit(unit_id):
    unit = _unit_or_404(unit_id)
    form = RenameUnitForm(obj=unit)
    move = MoveUnitForm(parent_id=unit.parent_id)
    move.parent_id.choices = options(_unit_choices([u for u in orgs.all_units() if u.active and not unit.contains(u)]))
    if form.validate_on_submit():
        try:
            orgs.rename_unit(unit, actor=current_user, name=form.name.data, name_en=form.name_en.data)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            add_errors(form, exc, "name")
        else:
            flash(_("Saved %(name)s.", name=unit.name), "success")
            return redirect(url_for(".edit_unit", unit_id=unit.id))
    return _unit_page(unit, form, move)


def _unit_page(unit, form, move):
    return render_template(
        "admin/unit.html", unit=unit, form=form, move=move, confirm=ConfirmForm(), held=orgs.unit_holdings(unit)
    ), 400 if form.errors or move.errors else 200


@bp.route("/units/<int:unit_id>/move", methods=["POST"])
def move_unit(unit_id):
    unit = _unit_or_404(unit_id)
    move = MoveUnitForm()
    # Every active unit is offered to the service, which refuses the unit's own subtree with a message.
    choices = {u.id: u for u in orgs.all_units() if u.active}
    move.parent_id.choices = options(_unit_choices(list(choices.values())))
    if move.validate_on_submit():
        try:
            orgs.move_unit(unit, choices[move.parent_id.data], actor=current_user)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            add_errors(move, exc, "parent_id")
        else:
            flash(_("%(name)s moved under %(parent)s.", name=unit.name, parent=unit.parent.name), "success")
            return redirect(url_for(".edit_unit", unit_id=unit.id))
    db.session.expire_all()
    unit = _unit_or_404(unit_id)
    move.parent_id.choices = options(_unit_choices([u for u in orgs.all_units() if u.active and not unit.contains(u)]))
    return _unit_page(unit, RenameUnitForm(obj=unit), move)


@bp.route("/units/<int:unit_id>/<any(deactivate, activate):action>", methods=["POST"])
def unit_action(unit_id, action):
    unit = _unit_or_404(unit_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        (orgs.deactivate_unit if action == "deactivate" else orgs.activate_unit)(unit, actor=current_user)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
    else:
        flash(
            _("%(name)s is deactivated.", name=unit.name)
            if action == "deactivate"
            else _("%(name)s is active again.", name=unit.name),
            "success",
        )
    return redirect(url_for(".edit_unit", unit_id=unit.id))


# --- categories ---------------------------------------------------------------------------------------------


def _category_or_404(category_id: int) -> Category:
    category = db.session.get(Category, category_id)
    if category is None:
        abort(404)
    return category


@bp.route("/categories", methods=["GET", "POST"])
def categories():
    tree = taxonomy.category_tree()
    parents = {parent.id: parent for parent, _children in tree if parent.active}
    form = CategoryForm()
    form.parent_id.choices = options(
        [("", _("None: a first-level category"))] + [(p.id, p.name) for p in parents.values()]
    )
    if request.method == "GET" and request.args.get("parent", type=int):
        form.parent_id.data = request.args.get("parent", type=int)
    if form.validate_on_submit():
        try:
            category = taxonomy.add_category(
                actor=current_user,
                code=form.code.data,
                name=form.name.data,
                parent=parents.get(form.parent_id.data),
                name_en=form.name_en.data,
            )
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            add_errors(form, exc, "code")
        else:
            flash(_("Category %(name)s created.", name=category.name), "success")
            return redirect(url_for(".categories", _anchor=f"category-{category.id}"))
        tree = taxonomy.category_tree()
    return render_template(
        "admin/categories.html", tree=tree, form=form, confirm=ConfirmForm()
    ), 400 if form.errors else 200


@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
def edit_category(category_id):
    category = _category_or_404(category_id)
    form = RenameCategoryForm(obj=category)
    if form.validate_on_submit():
        try:
            taxonomy.rename_category(category, actor=current_user, name=form.name.data, name_en=form.name_en.data)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            add_errors(form, exc, "name")
        else:
            flash(_("Saved %(name)s.", name=category.name), "success")
            return redirect(url_for(".categories", _anchor=f"category-{category.id}"))
    return render_template("admin/category.html", category=category, form=form), 400 if form.errors else 200


CATEGORY_ACTIONS = {
    "up": lambda c, actor: taxonomy.move_category(c, actor=actor, step=-1),
    "down": lambda c, actor: taxonomy.move_category(c, actor=actor, step=1),
    "deactivate": lambda c, actor: taxonomy.deactivate_category(c, actor=actor),
    "activate": lambda c, actor: taxonomy.activate_category(c, actor=actor),
}


@bp.route("/categories/<int:category_id>/<any(up, down, deactivate, activate):action>", methods=["POST"])
def category_action(category_id, action):
    category = _category_or_404(category_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        CATEGORY_ACTIONS[action](category, current_user)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
    else:
        if action == "deactivate":
            flash(
                _("%(name)s is hidden from new appeals; tickets filed under it keep it.", name=category.name), "success"
            )
        elif action == "activate":
            flash(_("%(name)s is active again.", name=category.name), "success")
    return redirect(url_for(".categories", _anchor=f"category-{category.id}"))


# --- partner API keys -----------------------------------------------------------------------------------------


@bp.route("/apikeys")
def api_keys_old_address():
    return redirect(url_for(".api_key_list"), 301)


@bp.route("/api-keys", methods=["GET", "POST"])
def api_key_list():
    form = ApiKeyForm()
    if form.validate_on_submit():
        try:
            key, raw = api_keys.create_api_key(form.channel.data, created_by=current_user)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            add_errors(form, exc, "channel")
        else:
            # Rendered, not flashed: a flash would carry the key in the session cookie.
            return render_template("admin/api_key_once.html", key=key, raw=raw)
    return render_template(
        "admin/api_keys.html", keys=api_keys.list_api_keys(), form=form, confirm=ConfirmForm()
    ), 400 if form.errors else 200


@bp.route("/api-keys/<int:key_id>/revoke", methods=["POST"])
def revoke_api_key(key_id):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        key = api_keys.revoke_api_key(key_id, actor=current_user)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        if exc.status_code == 404:
            abort(404)
        flash(str(exc.message), "danger")
    else:
        flash(
            _("The key of %(channel)s is revoked: its requests are refused from now on.", channel=key.channel),
            "success",
        )
    return redirect(url_for(".api_key_list"))
