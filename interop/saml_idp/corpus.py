"""The negative corpus: one or more Responses per class of saml-security.md, each built
from a good Response signed by the `xmlsec1` CLI (or by pysaml2, for SHA-1), addressed to
one hub IdP (a `peers.Target`).

Every case names the refusal reason codes (the saml crate's `SamlError::reason`) that the
hub may log for it. In each, the attacker holds a genuine signed assertion for
`genuine` (a login that must never be created by these cases) and tries to become
`victim` (an existing user that must never be changed or signed in).

As a command it writes the corpus as files, signed by a given key for a given target (the
fuzz seeds are made this way, with the saml crate's committed test-vector key):

  interop/.venv/bin/python interop/saml_idp/corpus.py --out DIR --key K.pem --cert C.pem \
      --attacker-key A.pem --attacker-cert AC.pem --issuer URI --acs URL --audience URI \
      [--genuine LOGIN --victim LOGIN --at 2026-11-24T05:00:00Z --in-response-to ID --with-pysaml2]
"""

import argparse
import datetime
import os
import re
import sys
import tempfile
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402
from peers import Subject, new_id, response_template, xmlsec1_sign  # noqa: E402


@dataclass
class Case:
    name: str
    # The SAMLResponse form value exactly as posted.
    form: str
    # Reason codes the hub may log for it.
    expect: tuple
    # The saml-security.md class it belongs to.
    what: str
    # The document, when there is one (fuzz seeds).
    xml: str = None


def _block(xml, open_re, close):
    m = re.search(open_re, xml)
    assert m, open_re
    end = xml.index(close, m.start()) + len(close)
    return m.start(), end


def assertion_of(xml):
    s, e = _block(xml, r"<saml:Assertion[ >]", "</saml:Assertion>")
    return xml[s:e]


def remove_signatures(xml):
    while "<ds:Signature" in xml:
        s, e = _block(xml, r"<ds:Signature[ >]", "</ds:Signature>")
        xml = xml[:s] + xml[e:]
    return xml


def assertion_id(xml):
    return re.search(r'<saml:Assertion[^>]* ID="([^"]+)"', xml).group(1)


def evil_copy(signed_assertion, genuine, victim, new_assertion_id=None):
    """An unsigned copy of a signed Assertion naming the victim instead."""
    out = remove_signatures(signed_assertion).replace(f">{genuine}<", f">{victim}<")
    if new_assertion_id:
        out = out.replace(f'ID="{assertion_id(signed_assertion)}"', f'ID="{new_assertion_id}"', 1)
    return out


def keyinfo_certs(xml):
    return ["".join(c.split()) for c in re.findall(r"<ds:X509Certificate>([^<]*)</ds:X509Certificate>", xml)]


def insert_after(xml, marker, what):
    at = xml.index(marker) + len(marker)
    return xml[:at] + what + xml[at:]


def subject(login):
    return Subject(login, {"firstName": "Mallory", "lastName": "Attacker", "email": login})


def xml_case(name, xml, expect, what):
    return Case(name, peers.b64(xml), tuple(expect), what, xml)


def negative_corpus(kp, attacker, target, genuine, victim, pysaml2_idp=None, now=None, in_response_to=None):
    """Every class, as a list of `Case`. `kp` is the key the hub trusts; `attacker` is not.
    `now` and `in_response_to` fix the issue instant and the request answered (fuzz seeds);
    by default the Responses are IdP-initiated and issued now."""
    base_now = now or peers.now_utc()
    at = {"now": base_now}
    if in_response_to:
        at["in_response_to"] = in_response_to

    def xmlsec1_response(key, target, subj, scope, **overrides):
        return peers.xmlsec1_response(key, target, subj, scope, **{**at, **overrides})

    good_a = xmlsec1_response(kp, target, subject(genuine), "assertion")
    good_r = xmlsec1_response(kp, target, subject(genuine), "response")
    cases = []
    add = cases.append

    # 1. Unsigned, wrong key, tampering (saml-security.md 2, 3)
    add(xml_case("unsigned", response_template(target, subject(victim), sign_response=False, sign_assertion=False, **at), ["unsigned"], "unsigned"))
    add(xml_case("unsigned_signatures_stripped", remove_signatures(good_r).replace(f">{genuine}<", f">{victim}<"), ["unsigned"], "unsigned"))
    own = xmlsec1_response(attacker, target, subject(victim), "both")
    assert keyinfo_certs(own) == [attacker.cert_b64] * 2
    add(xml_case("wrong_key_own_cert_in_keyinfo", own, ["signature_invalid"], "wrong key, its certificate in KeyInfo"))
    lying = re.sub(r"<ds:X509Certificate>[^<]*</ds:X509Certificate>", f"<ds:X509Certificate>{kp.cert_b64}</ds:X509Certificate>", own)
    assert keyinfo_certs(lying) == [kp.cert_b64] * 2
    add(xml_case("wrong_key_trusted_cert_in_keyinfo", lying, ["signature_invalid"], "wrong key, KeyInfo claims the trusted certificate"))
    add(xml_case("tampered_name_id_assertion_signed", good_a.replace(f">{genuine}<", f">{victim}<"), ["signature_invalid"], "tampering"))
    add(xml_case("tampered_name_id_response_signed", good_r.replace(f">{genuine}<", f">{victim}<"), ["signature_invalid"], "tampering"))

    # 2. XML signature wrapping (saml-security.md 1, 2)
    genuine_assertion = assertion_of(good_a)
    evil = evil_copy(genuine_assertion, genuine, victim, new_id())
    add(xml_case("wrap_evil_assertion_before_signed", good_a.replace("</samlp:Status>", "</samlp:Status>" + evil, 1), ["multiple_assertions"], "wrapping"))
    add(xml_case("wrap_evil_assertion_after_signed", good_a.replace("</saml:Assertion>", "</saml:Assertion>" + evil, 1), ["multiple_assertions"], "wrapping"))
    moved = good_a.replace(genuine_assertion, evil)
    add(xml_case("wrap_signed_assertion_moved_into_extensions",
                 insert_after(moved, "</saml:Issuer>", f"<samlp:Extensions>{genuine_assertion}</samlp:Extensions>"),
                 ["multiple_assertions", "signature_invalid", "signature_reference_invalid"], "wrapping"))
    same_id = evil_copy(genuine_assertion, genuine, victim)
    add(xml_case("wrap_same_id_signed_assertion_in_extensions",
                 insert_after(good_a.replace(genuine_assertion, same_id), "</saml:Issuer>", f"<samlp:Extensions>{genuine_assertion}</samlp:Extensions>"),
                 ["signature_invalid", "multiple_assertions", "signature_reference_invalid"], "wrapping"))
    add(xml_case("wrap_evil_assertion_in_signature_object",
                 insert_after(good_a, "</ds:KeyInfo>", f"<ds:Object>{evil}</ds:Object>"),
                 ["multiple_assertions", "signature_invalid", "signature_reference_invalid"], "wrapping"))
    add(xml_case("wrap_evil_assertion_nested_in_signed_assertion",
                 good_a.replace("</saml:AttributeStatement>", "</saml:AttributeStatement>" + evil, 1),
                 ["multiple_assertions", "signature_invalid"], "wrapping"))
    add(xml_case("wrap_extra_unsigned_assertion_in_signed_response",
                 good_r.replace("</saml:Assertion>", "</saml:Assertion>" + evil_copy(assertion_of(good_r), genuine, victim, new_id()), 1),
                 ["signature_invalid", "multiple_assertions"], "wrapping"))
    # A genuine signature whose only Reference is an Extensions element, not the Response.
    unsigned = response_template(target, subject(victim), sign_response=False, sign_assertion=False, **at)
    ext_id = new_id()
    ext_doc = insert_after(unsigned, "</saml:Issuer>", peers._sig_template(ext_id) + f'<samlp:Extensions ID="{ext_id}"><x xmlns="urn:x">hello</x></samlp:Extensions>')
    ext_signed = xmlsec1_sign(ext_doc, kp, peers.RESPONSE_SIG, extra_id_attrs=["--id-attr:ID", f"{peers.NS_PROTOCOL}:Extensions"])
    add(xml_case("signature_over_extensions_only", ext_signed, ["signature_reference_invalid", "unsigned"], "wrapping (signature not on the Response/Assertion)"))

    # 3. Comment injection (saml-security.md 5): the genuine NameID is victim + ".evil.test"
    for scope in ("assertion", "response"):
        signed = xmlsec1_response(kp, target, subject(victim + ".evil.test"), scope)
        injected = signed.replace(f">{victim}.evil.test<", f">{victim}<!---->.evil.test<")
        assert "<!---->" in injected
        add(xml_case(f"comment_injection_name_id_{scope}_signed", injected, ["signature_invalid"], "comment injection"))

    # 4. Algorithms (saml-security.md 4): SHA-1 when SHA-256 is required
    add(xml_case("sha1_signed_by_xmlsec1",
                 xmlsec1_response(kp, target, subject(genuine), "assertion", sig_alg=peers.RSA_SHA1, digest_alg=peers.DIGEST_SHA1),
                 ["algorithm_not_allowed"], "SHA-1 where SHA-256 is required"))
    if pysaml2_idp is not None:
        add(xml_case("sha1_signed_by_pysaml2_defaults",
                     pysaml2_idp.response(target, subject(genuine), "both", sign_alg=peers.RSA_SHA1, digest_alg=peers.DIGEST_SHA1),
                     ["algorithm_not_allowed"], "SHA-1 where SHA-256 is required"))

    # 5. Conditions (saml-security.md 7)
    hour = datetime.timedelta(hours=1)
    add(xml_case("expired", xmlsec1_response(kp, target, subject(genuine), "both", now=base_now - hour), ["expired"], "expired"))
    add(xml_case("not_yet_valid", xmlsec1_response(kp, target, subject(genuine), "both", now=base_now + hour), ["not_yet_valid"], "not yet valid"))
    add(xml_case("wrong_audience", xmlsec1_response(kp, target, subject(genuine), "both", audience="https://other-sp.example/metadata"), ["audience_mismatch"], "wrong audience"))
    add(xml_case("wrong_recipient", xmlsec1_response(kp, target, subject(genuine), "assertion", recipient="https://evil.example/acs"), ["recipient_mismatch"], "wrong recipient"))
    add(xml_case("wrong_destination", xmlsec1_response(kp, target, subject(genuine), "response", destination="https://evil.example/acs", recipient=target.acs), ["destination_mismatch"], "wrong destination"))
    add(xml_case("wrong_issuer", xmlsec1_response(kp, target, subject(genuine), "both", issuer="https://other-idp.example/idp"), ["issuer_mismatch"], "wrong issuer"))
    add(xml_case("failed_status_signed", xmlsec1_response(kp, target, subject(genuine), "both", status="urn:oasis:names:tc:SAML:2.0:status:Responder"), ["status_not_success"], "failed status"))
    failure = (
        f'<samlp:Response xmlns:samlp="{peers.NS_PROTOCOL}" ID="{new_id()}" Version="2.0" IssueInstant="{peers.instant(base_now)}" Destination="{target.acs}">'
        '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Requester">'
        '<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:RequestDenied"/></samlp:StatusCode>'
        "<samlp:StatusMessage>denied</samlp:StatusMessage></samlp:Status></samlp:Response>"
    )
    add(xml_case("failed_status_no_assertion", failure, ["status_not_success"], "failed status"))
    add(xml_case("unknown_in_response_to", xmlsec1_response(kp, target, subject(genuine), "both", in_response_to="_never_sent_by_the_hub"), ["in_response_to_mismatch"], "unknown InResponseTo"))

    # 6. DTDs, entities, size, encoding (saml-security.md 6)
    body = good_a.split("?>", 1)[1]
    laughs = "".join(f'<!ENTITY l{i} "{("&l%d;" % (i - 1)) * 10}">' for i in range(1, 10))
    add(xml_case("doctype_entity_expansion",
                 f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY l0 "lol">{laughs}]>' + body.replace(f">{genuine}<", ">&l9;<"),
                 ["doctype_forbidden"], "DOCTYPE / entity expansion"))
    add(xml_case("doctype_internal_entity_name_id",
                 f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY v "{victim}">]>' + body.replace(f">{genuine}<", ">&v;<"),
                 ["doctype_forbidden"], "DOCTYPE / entity expansion"))
    add(xml_case("external_entity_file",
                 '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + body.replace(f">{genuine}<", ">&x;<"),
                 ["doctype_forbidden"], "external entity"))
    add(xml_case("external_dtd_loopback",
                 '<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd">' + body,
                 ["doctype_forbidden"], "external entity"))
    add(xml_case("undeclared_entity_reference", good_a.replace(f">{genuine}<", ">&x;<"), ["malformed_xml"], "entities"))
    add(xml_case("oversized", insert_after(good_a, "</saml:Issuer>", "<!--" + "x" * (300 * 1024) + "-->"), ["too_large"], "oversized"))
    add(Case("malformed_base64", "not*base64!", ("bad_base64",), "malformed base64"))
    enc = peers.b64(good_a)
    add(Case("malformed_base64_truncated", enc[1:], ("bad_base64",), "malformed base64"))
    add(xml_case("not_xml", "this is not XML at all", ["malformed_xml"], "malformed XML"))
    add(xml_case("truncated_xml", good_a[: len(good_a) // 2], ["malformed_xml"], "malformed XML"))
    add(xml_case("not_a_response",
                 f'<samlp:AuthnRequest xmlns:samlp="{peers.NS_PROTOCOL}" ID="{new_id()}" Version="2.0" IssueInstant="{peers.instant(base_now)}"/>',
                 ["unexpected_message"], "not a Response"))
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), names
    return cases


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--attacker-key", required=True)
    ap.add_argument("--attacker-cert", required=True)
    ap.add_argument("--issuer", required=True)
    ap.add_argument("--acs", required=True)
    ap.add_argument("--audience", required=True)
    ap.add_argument("--genuine", default="sarah@example.com")
    ap.add_argument("--victim", default="admin@example.com")
    ap.add_argument("--in-response-to", help="the request every Response answers (default: IdP-initiated)")
    ap.add_argument("--at", help="issue instant (UTC, e.g. 2026-11-24T05:00:00Z); default now")
    ap.add_argument("--with-pysaml2", action="store_true", help="add the pysaml2-signed SHA-1 case")
    a = ap.parse_args()
    now = datetime.datetime.strptime(a.at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc) if a.at else None
    kp = peers.keypair_from_files(a.key, a.cert)
    attacker = peers.keypair_from_files(a.attacker_key, a.attacker_cert)
    target = peers.Target(acs=a.acs, audience=a.audience, issuer=a.issuer)
    os.makedirs(a.out, exist_ok=True)
    idp = None
    with tempfile.TemporaryDirectory(prefix="idhub-corpus-") as work:
        if a.with_pysaml2:
            idp = peers.Pysaml2Idp(kp, a.issuer, peers.sp_metadata(target), work)
        cases = negative_corpus(kp, attacker, target, a.genuine, a.victim, idp, now, a.in_response_to)
        # The good ones too: the fuzzer mutates from accepted documents as well.
        fixed = {k: v for k, v in {"now": now, "in_response_to": a.in_response_to}.items() if v}
        good = {f"good_xmlsec1_{s}": peers.xmlsec1_response(kp, target, subject(a.genuine), s, **fixed) for s in peers.SCOPES}
    for name, xml in good.items():
        with open(os.path.join(a.out, name + ".xml"), "w") as f:
            f.write(xml)
    # MANIFEST.tsv: file, then the reason codes it may be refused with ("accept" for the good).
    manifest = [f"{name}.xml\taccept" for name in good]
    for c in cases:
        if c.name == "oversized":
            continue  # 300 KiB of padding teaches a fuzzer nothing the size check does not
        file = c.name + (".xml" if c.xml is not None else ".b64")
        with open(os.path.join(a.out, file), "w") as f:
            f.write(c.xml if c.xml is not None else c.form)
        manifest.append(f"{file}\t{','.join(c.expect)}")
    with open(os.path.join(a.out, "MANIFEST.tsv"), "w") as f:
        f.write("\n".join(manifest) + "\n")
    print(f"wrote {len(manifest)} files and MANIFEST.tsv to {a.out}")


if __name__ == "__main__":
    main()
