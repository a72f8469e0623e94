# Sign the root element of an XML file with python3-saml (python-xmlsec), RSA-SHA256/SHA-256.
# Usage: python sign_python3_saml.py unsigned.xml key.pem cert.pem > signed.xml (see regenerate.sh)
import sys
from lxml import etree
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
xml, key, cert = (open(p).read() for p in sys.argv[1:4])
doc = etree.fromstring(xml.encode())
signed = OneLogin_Saml2_Utils.add_sign(doc, key, cert, sign_algorithm=C.RSA_SHA256, digest_algorithm=C.SHA256)
sys.stdout.write(signed.decode() if isinstance(signed, bytes) else signed)
