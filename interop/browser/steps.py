"""Steps the browser tests share (kept out of conftest.py, which tests cannot import by name)."""

PASSWORD = "Str0ngPassw0rd!"


def sign_in(b, org, login, password=PASSWORD, until="#current-user"):
    """Sign in on the org's hosted page and wait for `until`: the dashboard of tiles, or
    (`#mfa-submit`) the factor step, or (`#signin-error`) the page saying why not."""
    b.get(f"{org.base}/login")
    b.fill("#username", login)
    b.fill("#password", password)
    b.click("#signin-submit")
    b.find(until)


def totp(uri_or_secret, at=None, step_offset=0):
    """RFC 6238 code of an otpauth:// URI (or a bare base32 secret), with the standard
    library only: what an authenticator app would show, `step_offset` steps from now."""
    import base64
    import hashlib
    import hmac
    import struct
    import time
    import urllib.parse

    params = {"secret": uri_or_secret, "algorithm": "SHA1", "digits": "6", "period": "30"}
    if uri_or_secret.startswith("otpauth://"):
        params.update({k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlparse(uri_or_secret).query).items()})
    secret = params["secret"].replace(" ", "").upper()
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    period, digits = int(params["period"]), int(params["digits"])
    counter = int((at if at is not None else time.time()) // period) + step_offset
    mac = hmac.new(key, struct.pack(">Q", counter), getattr(hashlib, params["algorithm"].lower())).digest()
    o = mac[-1] & 0x0F
    return str((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 10 ** digits).zfill(digits)


def wait_until(what, check, timeout=30, every=0.3):
    """Poll `check` until it returns something truthy; bounded."""
    import time

    deadline = time.time() + timeout
    while True:
        got = check()
        if got:
            return got
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(every)
