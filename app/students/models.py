"""Students of a school; every personal value is encrypted, searchable only by blind index."""
from __future__ import annotations

from typing import Optional

from flask_babel import gettext, lazy_gettext
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import Organisation
from ..db import (Ciphertext, EncryptedDate, EncryptedText, TimestampMixin, UidMixin,
                  blind_index_column, ciphertext_column, composite_blind_index)
from ..extensions import db


class Student(UidMixin, TimestampMixin, db.Model):
    """A student known to a school's support team."""

    __tablename__ = "student"
    school_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False, index=True)
    grade: Mapped[Optional[int]] = mapped_column(Integer)
    class_no: Mapped[Optional[int]] = mapped_column(Integer)
    number: Mapped[Optional[int]] = mapped_column(Integer)
    #: 이주배경 학생, and the language spoken at home (a category, kept plain for matching)
    migrant_background: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    home_language: Mapped[Optional[str]] = mapped_column(String(40))
    special_education: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)

    name_enc: Mapped[Ciphertext] = ciphertext_column()
    name = EncryptedText(blind_index="name_bidx")
    name_bidx: Mapped[Optional[str]] = blind_index_column()
    birth_date_enc: Mapped[Ciphertext] = ciphertext_column()
    birth_date = EncryptedDate()
    #: name + birth date, for duplicate detection within a school
    name_birth_bidx: Mapped[Optional[str]] = blind_index_column()
    phone_enc: Mapped[Ciphertext] = ciphertext_column()
    phone = EncryptedText()
    address_enc: Mapped[Ciphertext] = ciphertext_column()
    address = EncryptedText()
    parent_name_enc: Mapped[Ciphertext] = ciphertext_column()
    parent_name = EncryptedText()
    parent_relation_enc: Mapped[Ciphertext] = ciphertext_column()
    parent_relation = EncryptedText()
    parent_phone_enc: Mapped[Ciphertext] = ciphertext_column()
    parent_phone = EncryptedText()
    #: NEIS 학생 개인번호
    neis_number_enc: Mapped[Ciphertext] = ciphertext_column()
    neis_number = EncryptedText(blind_index="neis_number_bidx")
    neis_number_bidx: Mapped[Optional[str]] = blind_index_column()

    school: Mapped[Organisation] = relationship()

    __table_args__ = (Index("ix_student_school_class", "school_id", "grade", "class_no", "number"),)

    @property
    def given_name(self) -> str:
        """The given name only (Korean names: the family name is the first syllable)."""
        name = self.name or ""
        return name[1:] if len(name) >= 2 and " " not in name else name

    @property
    def class_message(self):
        """The class label as a marked message, for a stored copy read later in any language
        (a referral's shared items); partial records fall back to the words of ``class_label``."""
        if self.grade and self.class_no and self.number:
            return lazy_gettext("%(g)s학년 %(c)s반 %(n)s번", g=self.grade, c=self.class_no, n=self.number)
        return self.class_label

    @property
    def class_label(self) -> str:
        """"3학년 2반 15번" / "Year 3, class 2, number 15" (the parts recorded)."""
        if self.grade and self.class_no and self.number:
            return gettext("%(g)s학년 %(c)s반 %(n)s번", g=self.grade, c=self.class_no, n=self.number)
        parts = [gettext("%(g)s학년", g=self.grade) if self.grade else "",
                 gettext("%(c)s반", c=self.class_no) if self.class_no else "",
                 gettext("%(n)s번", n=self.number) if self.number else ""]
        return " ".join(p for p in parts if p)


composite_blind_index(Student, "name_birth_bidx", "name", "birth_date")
