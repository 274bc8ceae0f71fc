"""Shared fixtures for the agency tests: an agency with one service in a 자치구."""
from __future__ import annotations

import datetime as dt

import pytest

from app.agencies.models import AgencyService, ServiceArea
from app.db import today_kst
from app.extensions import db


@pytest.fixture
def agency_with_service(build):
    """Factory: ``agency_with_service(gu="마포구", domains=("counselling",), **fields)`` -> service.

    ``fields`` go to the AgencyService (min_age, max_age, languages, capacity_status, …); ``areas``
    is a list of 자치구 names (default: ``[gu]``); ``agency`` reuses an existing agency and
    ``agency_fields`` go to a new one.  The agency is ``service.organisation``.
    """
    def _make(gu: str = "마포구", domains=("counselling",), **fields) -> AgencyService:
        agency = fields.pop("agency", None) or build.agency(gu=gu, **fields.pop("agency_fields", {}))
        areas = fields.pop("areas", None) or [gu]
        values = dict(name=f"{agency.name} 상담", min_age=6, max_age=18, languages=["한국어"],
                      capacity_status="available", last_confirmed_on=today_kst() - dt.timedelta(days=10))
        values.update(fields)
        service = AgencyService(organisation=agency, domains=list(domains), **values)
        service.areas = [ServiceArea(gu_id=build.gu(name).id) for name in areas]
        db.session.add(service)
        db.session.commit()
        return service
    return _make
