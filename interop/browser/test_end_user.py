"""The end user in headless Chromium, in a third org so its sign-on policy touches no other
test: the refusal pages (deactivated, locked out, app not assigned), TOTP enrollment and
challenge required by the policy, and the Settings page (Change Password; an authenticator
set up, replaced and refused removal) at a phone's width. Screenshots in
target/browser-artifacts/.
"""

from steps import PASSWORD, sign_in, totp


def test_end_user_mfa_settings_and_error_pages(orgs, browser):
    """In a third org: a deactivated person is refused; the admin requires TOTP for
    everyone on Security > Authenticators; Mia enrolls, changes her password on Settings
    and answers the challenge at her next sign-in; an app she is not assigned to says so;
    Lou locks his account with wrong passwords and the admin unlocks it; Mia's factor is
    reset from her person page. Sam replaces his authenticator (the old one's codes stop
    working) and may not remove it while the policy requires it."""
    lab = orgs["lab"]
    ids = {login: lab.person(login, first, "Lab") for login, first in
           (("mia@lab.example", "Mia"), ("lou@lab.example", "Lou"), ("dee@lab.example", "Dee"), ("sam@lab.example", "Sam"))}
    r = lab.api("POST", "/api/v1/apps", json={"signOnMode": "SAML_2_0", "label": "Payroll",
                                              "settings": {"signOn": {"ssoAcsUrl": "http://127.0.0.4:9/acs", "audience": "payroll"}}})
    assert r.status_code == 200, r.text
    payroll = r.json()

    a = browser("admin")
    sign_in(a, lab, "admin@lab.example")

    # deactivated: Dee's session ends with her account, and her next sign-in is refused
    d = browser("dee")
    sign_in(d, lab, "dee@lab.example")
    a.get(f"{lab.base}/admin/user/{ids['dee@lab.example']}")
    a.click("#action-deactivate", nav=False)
    a.screenshot("person-deactivate-confirm")
    a.click("#confirm-deactivate")
    assert a.text("#user-status") == "DEPROVISIONED"
    sign_in(d, lab, "dee@lab.example", until="#signin-error")
    assert "Unable to sign in" in d.text("#signin-error")
    d.screenshot("deactivated-refused")

    # Settings > Extra Verification: Sam sets up TOTP on his own, before any policy asks
    sam = browser("sam", 390, 844)
    sign_in(sam, lab, "sam@lab.example")
    sam.click("#settings-link")
    assert "not set up" in sam.text("#mfa-status")
    if sam.exists("#setup-current"):
        sam.fill("#setup-current", PASSWORD)
    sam.click("#totp-setup-start")
    sam_uri = sam.attribute("#totp-uri", "href")
    sam.screenshot("settings-mfa-setup-390px")
    sam.fill("#totp-code", totp(sam_uri))
    sam.click("#totp-activate")
    assert "not set up" not in sam.text("#mfa-status") and sam.exists("#totp-remove-open")
    sam.screenshot("settings-mfa-active-390px")

    # Security > Authenticators: TOTP for everyone, lockout after 3 failed sign-ins
    a.get(f"{lab.base}/admin/access/authenticators")
    a.choose("#mfa", "ALWAYS")
    a.fill("#maxAttempts", "3")
    a.screenshot("authenticators")
    a.click("#save-policy")
    assert a.value("#mfa") == "ALWAYS" and a.value("#maxAttempts") == "3"

    # Sam, on a new phone: Replace authenticator (the old one works until the new one is verified)
    sam.get(f"{lab.base}/enduser/settings")
    assert sam.text("#totp-setup-start") == "Replace authenticator"
    if sam.exists("#setup-current"):
        sam.fill("#setup-current", PASSWORD)
    sam.click("#totp-setup-start")
    assert "keeps working until this one is verified" in sam.text("#totp-setup")
    new_uri = sam.attribute("#totp-uri", "href")
    assert new_uri != sam_uri
    sam.screenshot("settings-mfa-replace-390px")
    sam.fill("#totp-code", totp(new_uri))
    sam.click("#totp-activate")
    sam.find("#settings-notice")
    # Remove: refused while the sign-on policy requires extra verification, said next to the field
    sam.click("#totp-remove-open", nav=False)
    if sam.exists("#remove-current"):
        sam.fill("#remove-current", PASSWORD)
    sam.click("#totp-remove")
    assert "requires extra verification" in sam.text("#remove-current-error")
    assert "not set up" not in sam.text("#mfa-status")
    sam.screenshot("settings-mfa-remove-refused-390px")
    # at the next sign-in the replaced authenticator's code is refused, the new one's accepted
    sam.get(f"{lab.base}/login/signout")
    sign_in(sam, lab, "sam@lab.example", until="#mfa-submit")
    sam.fill("#code", totp(sam_uri, step_offset=1))
    sam.click("#mfa-submit")
    assert sam.exists("p.error[role=alert]") and not sam.exists("#current-user"), "the old authenticator no longer works"
    sam.screenshot("mfa-challenge-old-authenticator-refused-390px")
    sam.fill("#code", totp(new_uri, step_offset=1))
    sam.click("#mfa-submit")
    assert sam.text("#current-user") == "sam@lab.example"

    # Mia: enrollment at her first sign-in, a wrong code refused next to the field
    m = browser("mia")
    sign_in(m, lab, "mia@lab.example", until="#mfa-submit")
    uri = m.attribute("#totp-uri", "href")
    assert uri.startswith("otpauth://totp/") and m.text("#totp-secret").strip()
    m.screenshot("mfa-enroll")
    good = totp(uri)
    m.fill("#code", str((int(good) + 500000) % 1000000).zfill(6))
    m.click("#mfa-submit")
    assert m.exists("p.error[role=alert]") and m.exists("#totp-secret")
    m.screenshot("mfa-enroll-wrong-code")
    m.fill("#code", totp(uri))
    m.click("#mfa-submit")
    assert m.text("#current-user") == "mia@lab.example"

    # Settings: personal information, Change Password (the current one first)
    m.click("#settings-link")
    assert m.text("#settings-login") == "mia@lab.example"
    assert "set up" in m.text("#mfa-status") and "not set up" not in m.text("#mfa-status")
    new_password = "N3w-Passw0rd-for-Mia"
    m.fill("#current", "not-my-password")
    m.fill("#new", new_password)
    m.fill("#confirm", new_password)
    m.click("#change-password")
    assert m.exists("#current-error"), "the refusal is next to the field"
    m.screenshot("settings-wrong-current-password")
    m.fill("#current", PASSWORD)
    m.fill("#new", new_password)
    m.fill("#confirm", new_password)
    m.click("#change-password")
    m.find("#settings-notice")
    m.screenshot("settings-password-changed")

    # the next sign-in: the new password, then the challenge (a later code: a used one never works again)
    m.get(f"{lab.base}/login/signout")
    sign_in(m, lab, "mia@lab.example", new_password, until="#mfa-submit")
    assert not m.exists("#totp-secret")
    m.screenshot("mfa-challenge")
    m.fill("#code", totp(uri, step_offset=1))
    m.click("#mfa-submit")
    assert m.text("#current-user") == "mia@lab.example"

    # an app she is not assigned to
    m.get(f"{lab.base}/app/{payroll['name']}/{payroll['id']}/sso/saml")
    assert "App not assigned" in m.text("h1")
    m.screenshot("app-not-assigned")

    # Lou: three wrong passwords lock the account; the right one is then refused too
    lou = browser("lou")
    for _ in range(3):
        lou.get(f"{lab.base}/login")
        lou.fill("#username", "lou@lab.example")
        lou.fill("#password", "wrong-password")
        lou.click("#signin-submit")
        lou.find("#signin-error")
    sign_in(lou, lab, "lou@lab.example", until="#signin-error")
    assert "locked" in lou.text("#signin-error")
    lou.screenshot("account-locked")

    # the admin: the dashboard counts him, People lists him locked out, Unlock after confirmation
    a.get(f"{lab.base}/admin/dashboard")
    assert a.text("#count-locked") == "1"
    a.screenshot("dashboard")
    a.get(f"{lab.base}/admin/users?q=lou")
    assert "LOCKED_OUT" in a.text("#people")
    a.screenshot("people-locked-out")
    a.click("#people a[href^='/admin/user/']")
    a.click("#action-unlock", nav=False)
    a.screenshot("person-unlock-confirm")
    a.click("#confirm-unlock")
    assert a.text("#user-status") == "ACTIVE"
    sign_in(lou, lab, "lou@lab.example", until="#mfa-submit")
    assert lou.exists("#totp-secret"), "unlocked, Lou signs in and is asked to enroll"

    # Mia's factor reset from her person page
    a.get(f"{lab.base}/admin/user/{ids['mia@lab.example']}")
    a.click("#action-reset-mfa", nav=False)
    a.screenshot("person-reset-mfa-confirm")
    a.click("#confirm-reset-mfa")
    assert "Multifactor reset." in a.text("[role=status]")
    assert "No factors enrolled." in a.text("body")
    a.screenshot("person-mfa-reset")
