"""Read-side helpers for student lists and pickers."""
from sqlalchemy import or_

from ..db import blind_index_matches
from .models import Student


def search_condition(q: str):
    """Exact match on the blind index of the name or the NEIS number (no decryption in SQL)."""
    return or_(blind_index_matches(Student.name_bidx, q), blind_index_matches(Student.neis_number_bidx, q))
