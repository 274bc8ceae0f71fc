from app.audit.models import AuditEvent


def test_login_then_home(client, build, login, db):
    user = build.user("school_staff")
    response = login(user)
    assert response.status_code == 302
    page = client.get("/", follow_redirects=True)
    assert "학교 지원팀 홈" in page.get_data(as_text=True)
    actions = [e.action for e in db.session.execute(db.select(AuditEvent)).scalars()]
    assert "login" in actions
