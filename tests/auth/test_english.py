"""The account pages in English (run with the compiled English catalogue): form labels, errors and
flash messages follow the reader's language; Korean stays as it was."""
import html as htmllib


def text(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def english(client):
    with client.session_transaction() as session:
        session["lang"] = "en"


def test_password_change_in_english(client, login, build):
    user = build.user("school_staff")
    login(user)
    english(client)
    page = text(client.get("/account"))
    assert "Current password" in page and "Confirm new password" in page
    wrong = client.post("/account/password", data={"current": "not-my-password-1", "new": "Another-river-stone-77",
                                                   "confirm": "Another-river-stone-77"})
    assert wrong.status_code == 400 and "Your current password is not correct." in text(wrong)
    assert "지금 비밀번호가 맞지 않습니다." not in text(wrong)
    mismatch = client.post("/account/password", data={"current": "Correct-horse-42", "new": "Another-river-stone-77",
                                                      "confirm": "Another-river-stone-78"})
    assert "The new passwords do not match." in text(mismatch)
    done = client.post("/account/password", data={"current": "Correct-horse-42", "new": "Another-river-stone-77",
                                                  "confirm": "Another-river-stone-77"}, follow_redirects=True)
    assert "Your password has been changed." in text(done)
