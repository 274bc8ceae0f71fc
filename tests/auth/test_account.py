"""내 계정: the account page, one's own password change (current password required), a temporary
password that must be changed before anything else, and signing out everywhere else."""
import html as htmllib

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import User


def text(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def actions(db, name):
    return list(db.session.execute(select(AuditEvent).where(AuditEvent.action == name)).scalars())


def test_account_page_shows_who_and_recent_sign_ins(client, login, build):
    user = build.user("school_staff", display_name="김선생")
    login(user)
    page = text(client.get("/account"))
    assert "김선생" in page and user.organisation.name in page and "학교 지원팀" in page
    assert page.count('data-testid="sign-in"') == 1
    assert 'href="/account"' in text(client.get("/cases/"))  # reachable from every page's header


def test_change_password_needs_the_current_one(client, login, build, db):
    user = build.user("school_staff")
    login(user)
    wrong = client.post("/account/password", data={"current": "not-my-password-1", "new": "Another-river-stone-77",
                                                   "confirm": "Another-river-stone-77"})
    assert wrong.status_code == 400 and "지금 비밀번호가 맞지 않습니다." in text(wrong)
    assert [e.outcome for e in actions(db, "password_change_refused")] == ["denied"]
    weak = client.post("/account/password", data={"current": "Correct-horse-42", "new": "qwertyuiop12",
                                                  "confirm": "qwertyuiop12"})
    assert weak.status_code == 400 and "쉽게 짐작할 수 있는 비밀번호" in text(weak)
    mismatch = client.post("/account/password", data={"current": "Correct-horse-42", "new": "Another-river-stone-77",
                                                      "confirm": "Another-river-stone-78"})
    assert mismatch.status_code == 400 and "새 비밀번호가 서로 다릅니다." in text(mismatch)
    db.session.expire_all()
    assert actions(db, "password_changed") == []
    done = client.post("/account/password", data={"current": "Correct-horse-42", "new": "Another-river-stone-77",
                                                  "confirm": "Another-river-stone-77"}, follow_redirects=True)
    assert "비밀번호를 바꿨습니다." in text(done)
    assert client.get("/cases/").status_code == 200  # this browser stays signed in
    [event] = actions(db, "password_changed")
    assert "Another-river" not in (event.details or "")


def test_a_temporary_password_must_be_changed_first(client, login, build, db):
    user = build.user("school_lead")
    user.password_temporary = True
    db.session.commit()
    login(user)
    blocked = client.get("/cases/")
    assert blocked.status_code == 302 and blocked.headers["Location"].startswith("/account")
    assert "임시 비밀번호" in text(client.get("/account"))
    client.post("/account/password", data={"current": "Correct-horse-42", "new": "Another-river-stone-77",
                                           "confirm": "Another-river-stone-77"})
    db.session.expire_all()
    assert db.session.get(User, user.id).password_temporary is False
    assert client.get("/cases/").status_code == 200


def test_sign_out_everywhere_keeps_this_browser(app, client, login, build, db):
    user = build.user("school_staff")
    login(user)
    other = app.test_client()
    other.post("/login", data={"login": user.login, "password": "Correct-horse-42"})
    assert other.get("/cases/").status_code == 200
    client.post("/account/sign-out-everywhere")
    assert client.get("/cases/").status_code == 200
    assert other.get("/cases/").status_code == 302
    assert len(actions(db, "sessions_ended")) == 1
