"""Form fields shared by every feature's forms.

``DateField`` accepts only dates a person could mean (1900–2199): a year such as 0001 or 9999
parses, but overflows date arithmetic ("a day later") and SQL comparisons, which answered 500.
"""
from __future__ import annotations

import datetime as dt

import wtforms
from flask_babel import gettext

from .i18n import date_words

EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2199, 12, 31)


class DateField(wtforms.DateField):
    """wtforms.DateField refusing dates outside EARLIEST..LATEST with a message beside the field."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not EARLIEST <= self.data <= LATEST:
            self.data = None
            raise ValueError(gettext("%(first)s부터 %(last)s 사이의 날짜를 입력해 주세요.",
                                     first=date_words(EARLIEST), last=date_words(LATEST)))
