//! A small, namespace-aware element tree read with quick-xml, used to read SAML messages
//! and metadata. It refuses DTDs, undefined entities, non-UTF-8 encodings and documents
//! nested deeper than [`MAX_DEPTH`]. Text is kept as all of an element's text nodes joined
//! (comments are dropped, never allowed to cut a value short: `a<!---->b` reads `ab`).

use crate::error::{Result, SamlError};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

/// SAML 2.0 protocol namespace.
pub(crate) const NS_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// SAML 2.0 assertion namespace.
pub(crate) const NS_ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// SAML 2.0 metadata namespace.
pub(crate) const NS_METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
/// XML-DSig namespace.
pub(crate) const NS_DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
/// XML Schema instance namespace.
pub(crate) const NS_XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// Deepest element nesting accepted.
pub(crate) const MAX_DEPTH: usize = 48;
/// Most elements accepted in one document.
pub(crate) const MAX_ELEMENTS: usize = 20_000;

/// An attribute: namespace URI (none for unprefixed attributes), local name, value.
#[derive(Debug, Clone)]
pub(crate) struct Attr {
    pub ns: Option<String>,
    pub name: String,
    pub value: String,
}

/// A child of an element.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Element(Element),
    Text(String),
}

/// An element with its resolved namespace.
#[derive(Debug, Clone)]
pub(crate) struct Element {
    pub ns: Option<String>,
    pub name: String,
    pub attrs: Vec<Attr>,
    pub children: Vec<Node>,
}

impl Element {
    /// Is this `{ns}name`?
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.name == name && self.ns.as_deref() == Some(ns)
    }

    /// An unqualified attribute.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|a| a.ns.is_none() && a.name == name).map(|a| a.value.as_str())
    }

    /// A namespace-qualified attribute.
    pub fn attr_ns(&self, ns: &str, name: &str) -> Option<&str> {
        self.attrs.iter().find(|a| a.ns.as_deref() == Some(ns) && a.name == name).map(|a| a.value.as_str())
    }

    /// Child elements.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// Child elements named `{ns}name`.
    pub fn children_named<'a>(&'a self, ns: &'a str, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.elements().filter(move |e| e.is(ns, name))
    }

    /// The first child element named `{ns}name`.
    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.elements().find(|e| e.is(ns, name))
    }

    /// All text below this element, every text node joined (the XPath string value).
    pub fn text(&self) -> String {
        let mut out = String::new();
        self.collect_text(&mut out);
        out
    }

    fn collect_text(&self, out: &mut String) {
        for n in &self.children {
            match n {
                Node::Text(t) => out.push_str(t),
                Node::Element(e) => e.collect_text(out),
            }
        }
    }

    /// Every element named `{ns}name` at any depth below (and including) this one.
    pub fn descendants<'a>(&'a self, ns: &str, name: &str, out: &mut Vec<&'a Element>) {
        if self.is(ns, name) {
            out.push(self);
        }
        for e in self.elements() {
            e.descendants(ns, name, out);
        }
    }
}

fn bad(msg: impl Into<String>) -> SamlError {
    SamlError::MalformedXml(msg.into())
}

fn resolved_ns(r: ResolveResult<'_>) -> Result<Option<String>> {
    match r {
        ResolveResult::Bound(ns) => Ok(Some(String::from_utf8(ns.as_ref().to_vec()).map_err(|_| bad("a namespace is not UTF-8"))?)),
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Unknown(p) => Err(bad(format!("the prefix {:?} is not declared", String::from_utf8_lossy(&p)))),
    }
}

fn start_element(reader: &NsReader<&[u8]>, e: &BytesStart<'_>) -> Result<Element> {
    let (ns, local) = reader.resolver().resolve_element(e.name());
    let ns = resolved_ns(ns)?;
    let name = String::from_utf8(local.as_ref().to_vec()).map_err(|_| bad("a name is not UTF-8"))?;
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| bad(e.to_string()))?;
        let key = a.key.as_ref();
        if key == b"xmlns" || key.starts_with(b"xmlns:") {
            continue;
        }
        let (ans, alocal) = reader.resolver().resolve_attribute(a.key);
        let ans = resolved_ns(ans)?;
        let aname = String::from_utf8(alocal.as_ref().to_vec()).map_err(|_| bad("a name is not UTF-8"))?;
        let value = a.normalized_value(quick_xml::XmlVersion::Implicit1_0).map_err(|e| bad(e.to_string()))?.into_owned();
        attrs.push(Attr { ns: ans, name: aname, value });
    }
    Ok(Element { ns, name, attrs, children: Vec::new() })
}

fn push_text(stack: &mut [Element], text: &str) -> Result<()> {
    match stack.last_mut() {
        Some(top) => {
            if let Some(Node::Text(t)) = top.children.last_mut() {
                t.push_str(text);
            } else {
                top.children.push(Node::Text(text.to_string()));
            }
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err(bad("text outside the root element")),
    }
}

fn close(stack: &mut [Element], root: &mut Option<Element>, el: Element) -> Result<()> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(Node::Element(el)),
        None if root.is_none() => *root = Some(el),
        None => return Err(bad("more than one root element")),
    }
    Ok(())
}

/// Parse a whole document into its root element.
pub(crate) fn parse(xml: &str) -> Result<Element> {
    parse_noting_comments(xml).map(|(root, _)| root)
}

/// Parse a whole document; also say whether a comment sits inside its root element.
pub(crate) fn parse_noting_comments(xml: &str) -> Result<(Element, bool)> {
    let mut reader = NsReader::from_str(xml);
    reader.config_mut().check_end_names = true;
    // libxml2 refuses `--` inside comments; so do we, so both parsers see one document.
    reader.config_mut().check_comments = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    let mut comments = false;
    loop {
        let ev = reader.read_event().map_err(|e| bad(e.to_string()))?;
        match ev {
            Event::Decl(d) => {
                if let Some(enc) = d.encoding() {
                    let enc = enc.map_err(|e| bad(e.to_string()))?;
                    if !enc.eq_ignore_ascii_case(b"utf-8") {
                        return Err(bad("only UTF-8 documents are accepted"));
                    }
                }
            }
            Event::DocType(_) => return Err(SamlError::DoctypeForbidden),
            Event::Start(_) | Event::Empty(_) if root.is_some() => return Err(bad("more than one root element")),
            Event::Start(e) => {
                count += 1;
                if stack.len() >= MAX_DEPTH || count > MAX_ELEMENTS {
                    return Err(bad("the document is nested too deeply or has too many elements"));
                }
                let el = start_element(&reader, &e)?;
                stack.push(el);
            }
            Event::Empty(e) => {
                count += 1;
                if stack.len() >= MAX_DEPTH || count > MAX_ELEMENTS {
                    return Err(bad("the document is nested too deeply or has too many elements"));
                }
                let el = start_element(&reader, &e)?;
                close(&mut stack, &mut root, el)?;
            }
            Event::End(_) => {
                let el = stack.pop().ok_or_else(|| bad("an end tag without a start tag"))?;
                close(&mut stack, &mut root, el)?;
            }
            Event::Text(t) => {
                let s = t.xml10_content().map_err(|e| bad(e.to_string()))?;
                push_text(&mut stack, &s)?;
            }
            Event::CData(t) => {
                let s = t.xml10_content().map_err(|e| bad(e.to_string()))?;
                push_text(&mut stack, &s)?;
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().map_err(|e| bad(e.to_string()))? {
                    Some(c) => c,
                    None => match r.decode().map_err(|e| bad(e.to_string()))?.as_ref() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        other => return Err(bad(format!("the entity &{other}; is not defined"))),
                    },
                };
                push_text(&mut stack, c.encode_utf8(&mut [0u8; 4]))?;
            }
            Event::Comment(_) => comments |= !stack.is_empty(),
            Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(bad("the document ends inside an element"));
    }
    root.ok_or_else(|| bad("the document has no root element")).map(|r| (r, comments))
}

/// An `xs:dateTime` in UTC (`Z` or an explicit offset; SAML requires a time zone).
pub(crate) fn parse_instant(value: &str) -> Result<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(value.trim())
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|_| bad(format!("{:?} is not a SAML instant", crate::error::clip(value))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_namespaces_text_and_entities() {
        let doc = parse(
            r#"<?xml version="1.0" encoding="UTF-8"?><p:R xmlns:p="urn:p" xmlns:a="urn:a" a:x="1" y="a&amp;b"><a:N>user@evil.com<!-- c -->.good.com</a:N><a:M><![CDATA[<x>]]>&#65;&lt;</a:M></p:R>"#,
        )
        .unwrap();
        assert!(doc.is("urn:p", "R"));
        assert_eq!(doc.attr("y"), Some("a&b"));
        assert_eq!(doc.attr_ns("urn:a", "x"), Some("1"));
        assert_eq!(doc.attr("x"), None);
        assert_eq!(doc.child("urn:a", "N").map(Element::text).as_deref(), Some("user@evil.com.good.com"));
        assert_eq!(doc.child("urn:a", "M").map(Element::text).as_deref(), Some("<x>A<"));
    }

    #[test]
    fn refuses_what_it_must() {
        assert!(matches!(parse("<!DOCTYPE x><x/>"), Err(SamlError::DoctypeForbidden)));
        assert!(parse("<x>&ent;</x>").is_err());
        assert!(parse("<p:x/>").is_err(), "undeclared prefix");
        assert!(parse("<x/><y/>").is_err());
        assert!(parse("<x><y></x>").is_err());
        assert!(parse(r#"<?xml version="1.0" encoding="ISO-8859-1"?><x/>"#).is_err());
        let deep = format!("{}{}", "<a>".repeat(MAX_DEPTH + 1), "</a>".repeat(MAX_DEPTH + 1));
        assert!(parse(&deep).is_err());
        assert!(parse(r#"<x a="1" a="2"/>"#).is_err(), "duplicate attribute");
    }
}
