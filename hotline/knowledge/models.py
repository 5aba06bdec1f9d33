"""Knowledge base articles (政策解读, FAQs) and their review state."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.core.clock import utcnow
from hotline.core.models import created_at_column, enum_check, enum_column
from hotline.extensions import Model
from hotline.tickets.models import Category


class ArticleState(str, enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


class KnowledgeArticle(Model):
    __tablename__ = "knowledge_article"
    __table_args__ = (enum_check("state", ArticleState),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="policy")  # policy (政策解读) or faq
    title: Mapped[str] = mapped_column(String(200))
    question: Mapped[str | None] = mapped_column(Text)  # how citizens ask it
    body: Mapped[str] = mapped_column(Text)  # the explanation an operator can read out
    source: Mapped[str | None] = mapped_column(String(255))  # the policy document it rests on
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"), index=True)
    effective_from: Mapped[date | None] = mapped_column(Date)
    effective_until: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = enum_column(ArticleState, default=ArticleState.DRAFT.value)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    published_at: Mapped[datetime | None] = mapped_column(DateTime)

    category: Mapped[Category | None] = relationship()

    @property
    def reference(self) -> str:
        """The marker an answer quotes (``KB-0003``): how the use of an article is recorded."""
        return f"KB-{self.id:04d}"
