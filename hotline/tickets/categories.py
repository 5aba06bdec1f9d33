"""The two-level category tree (一级/二级分类) as admins change it: create, rename, reorder, deactivate.

A deactivated category is hidden from new appeals (web, phone, API) and from Open311's service list; tickets
filed under it keep it. Every change is in the audit log with before -> after.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from hotline.core.audit import record_audit
from hotline.core.errors import ValidationFailed
from hotline.extensions import db
from hotline.tickets.models import Category


def category_tree() -> list[tuple[Category, list[Category]]]:
    """Every first-level category with its second-level ones, in the admins' order (inactive ones included)."""
    parents = (
        db.session.execute(
            select(Category).where(Category.parent_id.is_(None)).order_by(Category.sort_order, Category.code)
        )
        .scalars()
        .all()
    )
    return [(parent, list(parent.children)) for parent in parents]


def _siblings(parent_id: int | None) -> list[Category]:
    return list(
        db.session.execute(
            select(Category)
            .where(Category.parent_id.is_(None) if parent_id is None else Category.parent_id == parent_id)
            .order_by(Category.sort_order, Category.code)
        ).scalars()
    )


def _audit(actor, action: str, category: Category, detail: dict | None = None) -> None:
    record_audit(actor, action, f"category {category.code}", detail)


def _clean_name(name: str | None, field: str = "name") -> str:
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise ValidationFailed(_l("A name of at most 64 characters is required."), field=field)
    return name


def add_category(
    *, actor, code: str, name: str, parent: Category | None = None, name_en: str | None = None
) -> Category:
    """A first-level category, or a second-level one under a first-level ``parent``; placed last."""
    code = (code or "").strip()
    errors = {}
    if not code or len(code) > 16:
        errors["code"] = _l("A code of at most 16 characters is required.")
    elif db.session.execute(select(Category.id).where(Category.code == code)).first() is not None:
        errors["code"] = _l("The code %(code)s is taken.", code=code)
    try:
        name = _clean_name(name)
    except ValidationFailed as exc:
        errors["name"] = exc.message
    if parent is not None and parent.parent_id is not None:
        errors["parent_id"] = _l("Categories have two levels: choose a first-level category as the parent.")
    elif parent is not None and not parent.active:
        errors["parent_id"] = _l("The category %(name)s is deactivated.", name=parent.name)
    if errors:
        raise ValidationFailed(fields=errors)
    last = db.session.execute(
        select(func.max(Category.sort_order)).where(
            Category.parent_id.is_(None) if parent is None else Category.parent_id == parent.id
        )
    ).scalar()
    category = Category(
        code=code, name=name, name_en=(name_en or "").strip() or None, parent=parent, sort_order=(last or 0) + 10
    )
    db.session.add(category)
    db.session.flush()
    _audit(actor, "category.create", category, {"name": name, "parent": parent.code if parent else None})
    return category


def rename_category(category: Category, *, actor, name: str, name_en: str | None) -> Category:
    name, name_en = _clean_name(name), (name_en or "").strip() or None
    changes = {
        k: [old, new]
        for k, old, new in (("name", category.name, name), ("name_en", category.name_en, name_en))
        if old != new
    }
    if changes:
        category.name, category.name_en = name, name_en
        db.session.flush()
        _audit(actor, "category.update", category, changes)
    return category


def move_category(category: Category, *, actor, step: int) -> Category:
    """Move one place up (``step=-1``) or down (``+1``) among its siblings; the siblings are renumbered 10, 20…"""
    siblings = _siblings(category.parent_id)
    index = siblings.index(category)
    target = index + (1 if step > 0 else -1)
    if not 0 <= target < len(siblings):
        raise ValidationFailed(_l("%(name)s is already at the edge of its list.", name=category.name), field="step")
    siblings.insert(target, siblings.pop(index))
    for position, sibling in enumerate(siblings, start=1):
        sibling.sort_order = position * 10
    db.session.flush()
    _audit(actor, "category.reorder", category, {"position": [index + 1, target + 1]})
    return category


def deactivate_category(category: Category, *, actor) -> list[Category]:
    """Hide the category (a first-level one with its second-level ones) from new appeals and Open311;
    tickets filed under it keep it. Returns what was deactivated."""
    if not category.active:
        raise ValidationFailed(_l("The category %(name)s is deactivated.", name=category.name), field="category")
    changed = [category, *(c for c in category.children if c.active)]
    for item in changed:
        item.active = False
    db.session.flush()
    _audit(actor, "category.deactivate", category, {"active": [True, False], "with": [c.code for c in changed[1:]]})
    return changed


def activate_category(category: Category, *, actor) -> Category:
    if category.active:
        raise ValidationFailed(_l("%(name)s is already active.", name=category.name), field="category")
    if category.parent is not None and not category.parent.active:
        raise ValidationFailed(_l("The category %(name)s is deactivated.", name=category.parent.name), field="category")
    category.active = True
    db.session.flush()
    _audit(actor, "category.activate", category, {"active": [False, True]})
    return category
