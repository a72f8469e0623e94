//! Writing XML directly in exclusive canonical form (Exclusive XML Canonicalization 1.0,
//! without comments) and signing it, so that the IdP's Responses need no re-parse and no
//! second canonicalization: the digest of an element is SHA-256 of bytes written here.
//!
//! The writer holds two renderings of the same document:
//! - `doc`, the bytes sent to the SP;
//! - `canon`, the exclusive canonical form of the same node set.
//!
//! They are equal except where a namespace is declared that exclusive C14N does not
//! render because it is not *visibly utilized* (`xmlns:xs`, needed only by the QName in
//! `xsi:type="xs:string"`), and the `xmlns:ds` that a `ds:SignedInfo` inherits in the
//! document but renders itself as the apex of its own canonicalization.
//!
//! What makes the output canonical, and what every caller relies on:
//! - namespace declarations are written only where the element or one of its attributes
//!   uses the prefix and no output ancestor already declares it (the caller declares
//!   them, the writer checks that each prefixed name it writes is declared on the element
//!   itself or was declared by an open ancestor), sorted by prefix, before attributes;
//! - attributes sorted by (namespace URI, local name), unprefixed ones (no namespace) first;
//! - text escaped as `&amp; &lt; &gt; &#xD;`, attribute values as
//!   `&amp; &lt; &quot; &#x9; &#xA; &#xD;`; characters XML 1.0 cannot carry are refused;
//! - empty elements as a start tag and an end tag; no XML declaration, no whitespace
//!   between elements, UTF-8.

use crate::error::{Result, SamlError};
use crate::keys::SigningKey;
use openssl::hash::MessageDigest;
use sha2::{Digest, Sha256};

/// XML-DSig namespace.
pub(crate) const NS_DS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// Exclusive C14N without comments.
pub(crate) const ALG_EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
/// The enveloped-signature transform.
pub(crate) const ALG_ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
/// SHA-256 digests.
pub(crate) const ALG_SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";

/// Where a namespace declaration is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decl {
    /// In the document and in the canonical form (the prefix is visibly utilized here).
    Both,
    /// In the document only (exclusive C14N does not render it: not visibly utilized).
    DocOnly,
    /// In the canonical form only (inherited in the document; rendered at a C14N apex).
    CanonOnly,
}

/// A namespace declaration: prefix, URI, where it is written.
pub(crate) type Ns<'a> = (&'a str, &'a str, Decl);

/// Both renderings of a fragment.
#[derive(Debug, Clone, Default)]
pub(crate) struct Part {
    pub(crate) doc: String,
    pub(crate) canon: String,
}

impl Part {
    fn push(&mut self, s: &str) {
        self.doc.push_str(s);
        self.canon.push_str(s);
    }

    /// Append another fragment.
    pub(crate) fn append(&mut self, other: &Part) {
        self.doc.push_str(&other.doc);
        self.canon.push_str(&other.canon);
    }
}

/// Can XML 1.0 carry this character at all (even as a character reference)?
fn xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

fn unusable(c: char) -> SamlError {
    SamlError::Xml(format!("a value contains the character U+{:04X}, which XML cannot carry", u32::from(c)))
}

/// Escape character data as exclusive C14N renders it.
pub(crate) fn escape_text(out: &mut String, text: &str) -> Result<()> {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c if xml_char(c) => out.push(c),
            c => return Err(unusable(c)),
        }
    }
    Ok(())
}

/// Escape an attribute value as exclusive C14N renders it.
pub(crate) fn escape_attr(out: &mut String, value: &str) -> Result<()> {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c if xml_char(c) => out.push(c),
            c => return Err(unusable(c)),
        }
    }
    Ok(())
}

fn prefix_of(qname: &str) -> Option<&str> {
    qname.split_once(':').map(|(p, _)| p)
}

/// A writer of canonical XML (see the module comment). Names are our own fixed QNames;
/// only attribute values and text carry data, and both are always escaped.
#[derive(Debug, Default)]
pub(crate) struct C14nWriter {
    part: Part,
    /// Open elements: (QName, prefixes declared on it in the canonical form).
    open: Vec<(String, Vec<String>)>,
    /// Prefixes declared by the enclosing context (for a fragment written apart).
    context: Vec<String>,
}

impl C14nWriter {
    /// A writer for a fragment whose output ancestors already declare `prefixes`.
    pub(crate) fn within(prefixes: &[&str]) -> C14nWriter {
        C14nWriter { context: prefixes.iter().map(|p| p.to_string()).collect(), ..C14nWriter::default() }
    }

    fn declared(&self, prefix: &str) -> bool {
        self.context.iter().any(|p| p == prefix) || self.open.iter().any(|(_, ps)| ps.iter().any(|p| p == prefix))
    }

    /// `<qname ns… attrs…>`: `ns` are this element's declarations, `attrs` its attributes
    /// (QName, value); an attribute prefix must be declared here with [`Decl::Both`].
    pub(crate) fn start(&mut self, qname: &str, ns: &[Ns<'_>], attrs: &[(&str, &str)]) -> Result<()> {
        let here: Vec<String> = ns.iter().filter(|(_, _, d)| *d != Decl::DocOnly).map(|(p, _, _)| p.to_string()).collect();
        for (p, _, d) in ns {
            if *d == Decl::Both && self.declared(p) {
                return Err(SamlError::Xml(format!("the prefix {p} is declared again in {qname}")));
            }
        }
        let in_scope = |p: &str| here.iter().any(|h| h == p) || self.declared(p);
        if let Some(p) = prefix_of(qname) {
            if !in_scope(p) {
                return Err(SamlError::Xml(format!("the prefix of {qname} is not declared")));
            }
        }
        // attributes sorted by (namespace URI, local name); unprefixed ones have no namespace
        let mut sorted: Vec<(&str, &str, &str, &str)> = Vec::with_capacity(attrs.len());
        for (name, value) in attrs {
            let (uri, local) = match name.split_once(':') {
                None => ("", *name),
                Some((p, local)) => {
                    let uri = ns
                        .iter()
                        .find(|(q, _, d)| q == &p && *d == Decl::Both)
                        .map(|(_, u, _)| *u)
                        .ok_or_else(|| SamlError::Xml(format!("the attribute prefix {p} must be declared on {qname}")))?;
                    (uri, local)
                }
            };
            sorted.push((uri, local, name, value));
        }
        sorted.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        let mut decls: Vec<&Ns<'_>> = ns.iter().collect();
        decls.sort_by(|a, b| a.0.cmp(b.0));
        self.part.push("<");
        self.part.push(qname);
        for (p, uri, d) in decls {
            let mut s = String::with_capacity(p.len() + uri.len() + 10);
            s.push_str(" xmlns:");
            s.push_str(p);
            s.push_str("=\"");
            escape_attr(&mut s, uri)?;
            s.push('"');
            match d {
                Decl::Both => self.part.push(&s),
                Decl::DocOnly => self.part.doc.push_str(&s),
                Decl::CanonOnly => self.part.canon.push_str(&s),
            }
        }
        for (_, _, name, value) in sorted {
            let mut s = String::with_capacity(name.len() + value.len() + 8);
            s.push(' ');
            s.push_str(name);
            s.push_str("=\"");
            escape_attr(&mut s, value)?;
            s.push('"');
            self.part.push(&s);
        }
        self.part.push(">");
        self.open.push((qname.to_string(), here));
        Ok(())
    }

    /// Character data.
    pub(crate) fn text(&mut self, text: &str) -> Result<()> {
        let mut s = String::with_capacity(text.len());
        escape_text(&mut s, text)?;
        self.part.push(&s);
        Ok(())
    }

    /// `</qname>` of the innermost open element.
    pub(crate) fn end(&mut self, qname: &str) -> Result<()> {
        match self.open.pop() {
            Some((open, _)) if open == qname => {
                self.part.push("</");
                self.part.push(qname);
                self.part.push(">");
                Ok(())
            }
            other => Err(SamlError::Xml(format!("closing {qname}, but {:?} is open", other.map(|o| o.0)))),
        }
    }

    /// `<qname attrs>text</qname>`
    pub(crate) fn leaf(&mut self, qname: &str, ns: &[Ns<'_>], attrs: &[(&str, &str)], text: &str) -> Result<()> {
        self.start(qname, ns, attrs)?;
        self.text(text)?;
        self.end(qname)
    }

    /// `<qname attrs></qname>` (canonical form of an empty element).
    pub(crate) fn empty(&mut self, qname: &str, ns: &[Ns<'_>], attrs: &[(&str, &str)]) -> Result<()> {
        self.start(qname, ns, attrs)?;
        self.end(qname)
    }

    /// Insert a fragment written apart (e.g. a signed Assertion).
    pub(crate) fn append(&mut self, part: &Part) {
        self.part.append(part);
    }

    /// The fragment written so far; every element opened must have been closed, unless
    /// `open_ok` (the head of an element whose rest is written by another writer).
    pub(crate) fn finish(self, open_ok: bool) -> Result<Part> {
        if !open_ok && !self.open.is_empty() {
            return Err(SamlError::Xml(format!("unclosed elements: {:?}", self.open.iter().map(|o| &o.0).collect::<Vec<_>>())));
        }
        Ok(self.part)
    }
}

/// The enveloped signature of the element with `id`, whose canonical form without the
/// signature is `element_canon`: RSA-SHA256 over the canonical `ds:SignedInfo`, SHA-256
/// digest, enveloped-signature and exclusive C14N transforms, the certificate in KeyInfo.
/// The returned fragment is the same in the document and in the canonical form of any
/// ancestor (it declares `ds` itself and nothing in it needs escaping beyond the writer's).
pub(crate) fn enveloped_signature(id: &str, element_canon: &[u8], key: &SigningKey) -> Result<String> {
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let digest = b64(&Sha256::digest(element_canon));
    let reference = format!("#{id}");
    // ds:SignedInfo; `xmlns:ds` is rendered on it only in its own canonical form.
    let mut si = C14nWriter::within(&[]);
    si.start("ds:SignedInfo", &[("ds", NS_DS, Decl::CanonOnly)], &[])?;
    si.empty("ds:CanonicalizationMethod", &[], &[("Algorithm", ALG_EXC_C14N)])?;
    si.empty("ds:SignatureMethod", &[], &[("Algorithm", crate::ALG_RSA_SHA256)])?;
    si.start("ds:Reference", &[], &[("URI", &reference)])?;
    si.start("ds:Transforms", &[], &[])?;
    si.empty("ds:Transform", &[], &[("Algorithm", ALG_ENVELOPED)])?;
    si.empty("ds:Transform", &[], &[("Algorithm", ALG_EXC_C14N)])?;
    si.end("ds:Transforms")?;
    si.empty("ds:DigestMethod", &[], &[("Algorithm", ALG_SHA256)])?;
    si.leaf("ds:DigestValue", &[], &[], &digest)?;
    si.end("ds:Reference")?;
    si.end("ds:SignedInfo")?;
    let signed_info = si.finish(false)?;
    let signature_value = b64(&key.sign_bytes(MessageDigest::sha256(), signed_info.canon.as_bytes())?);
    let mut w = C14nWriter::within(&[]);
    w.start("ds:Signature", &[("ds", NS_DS, Decl::Both)], &[])?;
    w.part.push(&signed_info.doc);
    w.leaf("ds:SignatureValue", &[], &[], &signature_value)?;
    w.start("ds:KeyInfo", &[], &[])?;
    w.start("ds:X509Data", &[], &[])?;
    w.leaf("ds:X509Certificate", &[], &[], key.cert_b64())?;
    w.end("ds:X509Data")?;
    w.end("ds:KeyInfo")?;
    w.end("ds:Signature")?;
    let part = w.finish(false)?;
    debug_assert_eq!(part.doc, part.canon);
    Ok(part.doc)
}

/// An element written as `head` (its start tag and Issuer) and `tail` (the rest, with its
/// end tag), signed when `sign`: the signature goes between the two, right after Issuer.
pub(crate) fn sign_between(head: Part, tail: Part, id: &str, key: &SigningKey, sign: bool) -> Result<Part> {
    let mut out = head;
    if sign {
        let mut canon = Vec::with_capacity(out.canon.len() + tail.canon.len());
        canon.extend_from_slice(out.canon.as_bytes());
        canon.extend_from_slice(tail.canon.as_bytes());
        let signature = enveloped_signature(id, &canon, key)?;
        out.push(&signature);
    }
    out.append(&tail);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_exclusive_c14n() {
        let mut t = String::new();
        escape_text(&mut t, "a&b<c>d\"e'f\rg\th\ni é").unwrap();
        assert_eq!(t, "a&amp;b&lt;c&gt;d\"e'f&#xD;g\th\ni é");
        let mut a = String::new();
        escape_attr(&mut a, "a&b<c>d\"e'f\rg\th\ni é").unwrap();
        assert_eq!(a, "a&amp;b&lt;c>d&quot;e'f&#xD;g&#x9;h&#xA;i é");
        assert!(escape_text(&mut String::new(), "bell\u{7}").is_err());
        assert!(escape_attr(&mut String::new(), "nul\u{0}").is_err());
        assert!(escape_text(&mut String::new(), "\u{FFFE}").is_err());
    }

    #[test]
    fn attributes_sorted_namespaces_first_empty_elements_expanded() {
        let mut w = C14nWriter::within(&[]);
        w.start(
            "p:a",
            &[("x", "urn:x", Decl::Both), ("p", "urn:p", Decl::Both), ("d", "urn:d", Decl::DocOnly)],
            &[("x:z", "1"), ("b", "2"), ("A", "3")],
        )
        .unwrap();
        w.empty("p:e", &[], &[]).unwrap();
        w.end("p:a").unwrap();
        let p = w.finish(false).unwrap();
        assert_eq!(p.canon, r#"<p:a xmlns:p="urn:p" xmlns:x="urn:x" A="3" b="2" x:z="1"><p:e></p:e></p:a>"#);
        assert_eq!(p.doc, r#"<p:a xmlns:d="urn:d" xmlns:p="urn:p" xmlns:x="urn:x" A="3" b="2" x:z="1"><p:e></p:e></p:a>"#);
    }

    #[test]
    fn undeclared_prefixes_and_mismatched_ends_are_refused() {
        let mut w = C14nWriter::within(&[]);
        assert!(w.start("q:a", &[], &[]).is_err());
        let mut w = C14nWriter::within(&["p"]);
        w.start("p:a", &[], &[]).unwrap();
        assert!(w.end("p:b").is_err());
        let mut w = C14nWriter::within(&["p"]);
        assert!(w.start("p:a", &[("p", "urn:p", Decl::Both)], &[]).is_err(), "a redundant declaration is not canonical");
        let mut w = C14nWriter::within(&[]);
        w.start("p:a", &[("p", "urn:p", Decl::Both)], &[]).unwrap();
        assert!(w.finish(false).is_err());
    }
}
