"""Steps the browser tests share (kept out of conftest.py, which tests cannot import by name)."""

PASSWORD = "Str0ngPassw0rd!"


def sign_in(b, org, login, password=PASSWORD):
    """Sign in on the org's hosted page and wait for the dashboard of tiles."""
    b.get(f"{org.base}/login")
    b.fill("#username", login)
    b.fill("#password", password)
    b.click("#signin-submit")
    b.find("#current-user")
