"""The case page shows the case's guardians to the school team, and the way to matching to the
district coordinator only."""
from tests.guardians.portal_setup import matched


def test_school_sees_the_active_guardian_and_no_matching_link(client, login, build, eligible_guardian, coordinator):
    pair = matched(build, eligible_guardian, coordinator)
    login(pair.lead)
    html = client.get(f"/cases/{pair.case.uid}").get_data(as_text=True)
    assert pair.guardian.name in html and "활동 중" in html
    assert f"/guardians/match/{pair.case.uid}" not in html


def test_coordinator_gets_the_matching_link(client, login, build, eligible_guardian, coordinator):
    pair = matched(build, eligible_guardian, coordinator, accept=False)
    login(coordinator)
    html = client.get(f"/cases/{pair.case.uid}").get_data(as_text=True)
    assert "수락 대기" in html and f"/guardians/match/{pair.case.uid}" in html
