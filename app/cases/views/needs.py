"""Case screens: needs and risk as the situation changes (add a need, resolve one, re-rate the risk)."""
from __future__ import annotations

from flask_babel import gettext
from flask_login import current_user, login_required

from ...words import particle
from .. import bp
from .. import needs as n
from ..forms.actions import PREFIXES, NeedForm, ResolveNeedForm, RiskForm
from ..loaders import load_case_or_404
from ..models import CaseNeed, NEED_OUTCOMES, RISK_LEVELS
from .actions import _apply, _part_of_case, _require_edit


@bp.post("/<uid>/needs", endpoint="add_need")
@login_required
def add_need_view(uid: str):
    """Add a need in a domain the case does not cover yet."""
    case = load_case_or_404(uid)
    _require_edit(case)
    form = NeedForm(prefix=PREFIXES["need"])
    return _apply(case, "need", form, lambda f: n.add_need(case, current_user, domain=f.domain.data,
                                                            description=f.description.data),
                  gettext("지원 영역을 추가했습니다."))


@bp.post("/<uid>/needs/<need_uid>/resolve", endpoint="resolve_need")
@login_required
def resolve_need_view(uid: str, need_uid: str):
    """Mark one need resolved with its outcome while the case goes on."""
    case = load_case_or_404(uid)
    _require_edit(case)
    need = _part_of_case(CaseNeed, need_uid, case)
    form = ResolveNeedForm(prefix=PREFIXES["resolve_need"])
    outcome = NEED_OUTCOMES.get(form.outcome.data, "")
    return _apply(case, "resolve_need", form, lambda f: n.resolve_need(need, case, current_user, outcome=f.outcome.data,
                                                                        note=f.note.data),
                  gettext("%(domain)s 영역을 '%(outcome)s'%(ro)s 마무리했습니다.", domain=need.domain_label, outcome=outcome,
                          ro=particle(str(outcome), "으로/로")))


@bp.post("/<uid>/risk", endpoint="rerate_risk")
@login_required
def rerate_risk_view(uid: str):
    """Re-rate the case's risk level with the reason."""
    case = load_case_or_404(uid)
    _require_edit(case)
    form = RiskForm(prefix=PREFIXES["risk"])
    level = RISK_LEVELS.get(form.risk_level.data, ("",))[0]
    return _apply(case, "risk", form, lambda f: n.rerate_risk(case, current_user, risk_level=f.risk_level.data,
                                                               reason=f.reason.data),
                  gettext("위기 수준을 '%(level)s'%(ro)s 바꿨습니다.", level=level, ro=particle(str(level), "으로/로")))
