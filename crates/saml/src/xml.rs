//! Writing XML: a thin layer over quick-xml's writer (elements, attributes and text are
//! always escaped by the writer; no user data is ever concatenated into markup), new
//! XML IDs, SAML instants, and the enveloped-signature template that the signature
//! engine fills in.

use crate::engine::{Engine, SignatureEngine};
use crate::error::{Result, SamlError};
use crate::keys::SigningKey;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use std::io::Cursor;

pub(crate) struct Xml {
    w: Writer<Cursor<Vec<u8>>>,
}

fn err(e: impl std::fmt::Display) -> SamlError {
    SamlError::Xml(e.to_string())
}

impl Xml {
    pub(crate) fn new() -> Xml {
        Xml { w: Writer::new(Cursor::new(Vec::new())) }
    }

    pub(crate) fn open(&mut self, name: &str, attrs: &[(&str, &str)]) -> Result<()> {
        let mut e = BytesStart::new(name);
        for a in attrs {
            e.push_attribute(*a);
        }
        self.w.write_event(Event::Start(e)).map_err(err)
    }

    pub(crate) fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) -> Result<()> {
        let mut e = BytesStart::new(name);
        for a in attrs {
            e.push_attribute(*a);
        }
        self.w.write_event(Event::Empty(e)).map_err(err)
    }

    pub(crate) fn close(&mut self, name: &str) -> Result<()> {
        self.w.write_event(Event::End(BytesEnd::new(name))).map_err(err)
    }

    pub(crate) fn text(&mut self, text: &str) -> Result<()> {
        self.w.write_event(Event::Text(BytesText::new(text))).map_err(err)
    }

    /// `<name attrs>text</name>`
    pub(crate) fn leaf(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) -> Result<()> {
        self.open(name, attrs)?;
        self.text(text)?;
        self.close(name)
    }

    pub(crate) fn finish(self) -> Result<String> {
        String::from_utf8(self.w.into_inner().into_inner()).map_err(err)
    }
}

/// A new XML ID (an NCName: it must not start with a digit).
pub(crate) fn new_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 20];
    rand::thread_rng().fill_bytes(&mut b);
    format!("id{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>())
}

/// SAML's timestamp format (UTC, milliseconds).
pub(crate) fn instant(unix_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(unix_ms).map(|t| instant_of(&t)).unwrap_or_default()
}

/// SAML's timestamp format for a `DateTime`.
pub(crate) fn instant_of(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Sign the first empty `ds:Signature` template in document order.
pub(crate) fn sign_first_template(xml: &str, key: &SigningKey) -> Result<String> {
    Engine::sign_first_template(xml, key)
}

/// A signature template (our own fixed markup, no user data) inserted right after the
/// first `</{issuer_qname}>` of a document we wrote ourselves, then signed.
pub(crate) fn sign_after_first_issuer(doc: &str, issuer_close: &str, id: &str, key: &SigningKey) -> Result<String> {
    let mut t = Xml::new();
    signature_template(&mut t, id, key.cert_b64())?;
    let template = t.finish()?;
    let at = doc.find(issuer_close).ok_or_else(|| SamlError::Xml("no Issuer in the document to sign".into()))? + issuer_close.len();
    let mut out = String::with_capacity(doc.len() + template.len());
    out.push_str(&doc[..at]);
    out.push_str(&template);
    out.push_str(&doc[at..]);
    sign_first_template(&out, key)
}

/// An enveloped-signature template for the element with `id`, signed with RSA-SHA256 and
/// exclusive C14N, carrying the certificate.
pub(crate) fn signature_template(x: &mut Xml, id: &str, cert_b64: &str) -> Result<()> {
    let reference = format!("#{id}");
    x.open("ds:Signature", &[("xmlns:ds", "http://www.w3.org/2000/09/xmldsig#")])?;
    x.open("ds:SignedInfo", &[])?;
    x.empty("ds:CanonicalizationMethod", &[("Algorithm", "http://www.w3.org/2001/10/xml-exc-c14n#")])?;
    x.empty("ds:SignatureMethod", &[("Algorithm", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")])?;
    x.open("ds:Reference", &[("URI", &reference)])?;
    x.open("ds:Transforms", &[])?;
    x.empty("ds:Transform", &[("Algorithm", "http://www.w3.org/2000/09/xmldsig#enveloped-signature")])?;
    x.empty("ds:Transform", &[("Algorithm", "http://www.w3.org/2001/10/xml-exc-c14n#")])?;
    x.close("ds:Transforms")?;
    x.empty("ds:DigestMethod", &[("Algorithm", "http://www.w3.org/2001/04/xmlenc#sha256")])?;
    x.leaf("ds:DigestValue", &[], "")?;
    x.close("ds:Reference")?;
    x.close("ds:SignedInfo")?;
    x.leaf("ds:SignatureValue", &[], "")?;
    x.open("ds:KeyInfo", &[])?;
    x.open("ds:X509Data", &[])?;
    x.leaf("ds:X509Certificate", &[], cert_b64)?;
    x.close("ds:X509Data")?;
    x.close("ds:KeyInfo")?;
    x.close("ds:Signature")
}
