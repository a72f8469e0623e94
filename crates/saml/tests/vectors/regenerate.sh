#!/usr/bin/env bash
# Rebuild the committed vectors signed by the xmlsec1 CLI (code nobody here wrote) from
# the templates, with the test-vector IdP key. The keys in this folder are test data,
# published on purpose; they protect nothing. Run from anywhere: bash regenerate.sh
set -euo pipefail
cd "$(dirname "$0")"
ID=(--id-attr:ID urn:oasis:names:tc:SAML:2.0:protocol:Response --id-attr:ID urn:oasis:names:tc:SAML:2.0:assertion:Assertion)
KEY=(--privkey-pem test-idp.key.pem,test-idp.cert.pem)
xmlsec1 --sign "${ID[@]}" "${KEY[@]}" --output signed-by-xmlsec1-assertion.xml template-assertion-signed.xml
xmlsec1 --sign "${ID[@]}" "${KEY[@]}" --output signed-by-xmlsec1-response.xml template-response-signed.xml
# Both: the Assertion first (the Response's digest then covers its signature).
tmp=$(mktemp)
xmlsec1 --sign "${ID[@]}" "${KEY[@]}" --node-xpath "//*[local-name()='Assertion']/*[local-name()='Signature']" --output "$tmp" template-both-signed.xml
xmlsec1 --sign "${ID[@]}" "${KEY[@]}" --node-xpath "/*[local-name()='Response']/*[local-name()='Signature']" --output signed-by-xmlsec1-both.xml "$tmp"
rm -f "$tmp"
# Signed by python3-saml's own template code (needs the interop venv: interop/.venv).
PY=../../../../interop/.venv/bin/python
if [ -x "$PY" ]; then
    tmp=$(mktemp)
    python3 -c 'import re,sys; s=open("template-response-signed.xml").read(); sys.stdout.write(re.sub(r"\s*<ds:Signature.*?</ds:Signature>", "", s, flags=re.S))' > "$tmp"
    PYTHONDONTWRITEBYTECODE=1 "$PY" sign_python3_saml.py "$tmp" test-idp.key.pem test-idp.cert.pem > signed-by-python3-saml-response.xml
    rm -f "$tmp"
fi
# The negative corpus (every class of saml-security.md; MANIFEST.tsv names each verdict),
# from the generator the hub-level suite uses (interop/saml_idp/corpus.py), with this key.
if [ -x "$PY" ]; then
    rm -rf corpus
    PYTHONDONTWRITEBYTECODE=1 "$PY" -W ignore ../../../../interop/saml_idp/corpus.py --out corpus \
        --key test-idp.key.pem --cert test-idp.cert.pem --attacker-key attacker.key.pem --attacker-cert attacker.cert.pem \
        --issuer http://www.okta.com/exkSPOKE --acs https://hub.example/sso/saml2/0oaSPOKE \
        --audience https://www.okta.com/saml2/service-provider/sphub \
        --at 2026-11-24T05:00:00Z --in-response-to id_vector_request --with-pysaml2
fi
