//! Transport encodings around SAML messages, each with a cap: strict base64 (HTTP-POST),
//! raw DEFLATE with a bounded inflate (HTTP-Redirect), percent-encoding of query strings,
//! and the DOCTYPE refusal that runs before any XML parser sees a document.

use crate::error::{Result, SamlError};
use base64::Engine;
use std::io::Read;

/// Largest decoded SAML Response accepted by the SP side.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// Standard base64, padding required, after removing the line breaks and spaces that
/// some senders wrap it with. Refused before decoding when the text alone proves the
/// result would be over `max_decoded`.
pub(crate) fn decode_base64(text: &str, max_decoded: usize) -> Result<Vec<u8>> {
    if text.len() > max_decoded.saturating_mul(2).saturating_add(1024) {
        return Err(SamlError::TooLarge { limit: max_decoded });
    }
    let mut cleaned = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            ' ' | '\t' | '\r' | '\n' => {}
            'A'..='Z' | 'a'..='z' | '0'..='9' | '+' | '/' | '=' => cleaned.push(c),
            _ => return Err(SamlError::BadBase64),
        }
    }
    if cleaned.len() / 4 * 3 > max_decoded + 3 {
        return Err(SamlError::TooLarge { limit: max_decoded });
    }
    let out = base64::engine::general_purpose::STANDARD.decode(cleaned).map_err(|_| SamlError::BadBase64)?;
    if out.len() > max_decoded {
        return Err(SamlError::TooLarge { limit: max_decoded });
    }
    Ok(out)
}

/// Base64 of `bytes` (standard alphabet, padded, one line).
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Raw DEFLATE (RFC 1951), as the HTTP-Redirect binding wants.
pub(crate) fn deflate(bytes: &[u8]) -> Result<Vec<u8>> {
    use std::io::Write;
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).map_err(|e| SamlError::Xml(e.to_string()))?;
    enc.finish().map_err(|e| SamlError::Xml(e.to_string()))
}

/// Inflate raw DEFLATE, stopping as soon as the output passes `max` (a deflate bomb never
/// gets further than `max + 1` bytes of memory).
pub(crate) fn inflate_capped(bytes: &[u8], max: usize) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(bytes).take(max as u64 + 1).read_to_end(&mut out).map_err(|_| SamlError::BadDeflate)?;
    if out.len() > max {
        return Err(SamlError::TooLarge { limit: max });
    }
    Ok(out)
}

/// Bytes to UTF-8 text, refusing anything else.
pub(crate) fn utf8(bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|_| SamlError::MalformedXml("the message is not UTF-8".into()))
}

/// Refuse documents that declare a DTD or entities, before any parser runs (no parser
/// here or in libxml2 ever sees one).
pub(crate) fn refuse_doctype(xml: &str) -> Result<()> {
    let bytes = xml.as_bytes();
    let hit =
        bytes.windows(9).any(|w| w.eq_ignore_ascii_case(b"<!doctype")) || bytes.windows(8).any(|w| w.eq_ignore_ascii_case(b"<!entity"));
    if hit {
        return Err(SamlError::DoctypeForbidden);
    }
    Ok(())
}

/// Percent-encode a query-string value: everything but RFC 3986 unreserved characters.
pub(crate) fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3 / 2);
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(char::from(b)),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Decode a query-string component (`+` is a space, `%XX` a byte); the result must be UTF-8.
pub(crate) fn percent_decode(raw: &str) -> Result<String> {
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex);
                let lo = bytes.get(i + 2).copied().and_then(hex);
                match (hi, lo) {
                    (Some(h), Some(l)) => out.push(h << 4 | l),
                    _ => return Err(SamlError::MalformedXml("a query parameter has a bad percent-escape".into())),
                }
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| SamlError::MalformedXml("a query parameter is not UTF-8".into()))
}

/// The raw (still percent-encoded) `key=value` pairs of a query string; `input` may be a
/// whole path-and-query or URL (everything up to the first `?` is skipped) or a bare query.
pub(crate) fn raw_query_pairs(input: &str) -> Result<Vec<(String, &str)>> {
    let query = match input.split_once('?') {
        Some((_, q)) => q,
        None => input,
    };
    let query = query.split('#').next().unwrap_or_default();
    let mut pairs = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        pairs.push((percent_decode(k)?, v));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_strict_and_capped() {
        assert_eq!(decode_base64("aGVs\r\nbG8=", 10).ok(), Some(b"hello".to_vec()));
        assert_eq!(decode_base64("aGVsbG8", 10), Err(SamlError::BadBase64), "padding is required");
        assert_eq!(decode_base64("aGVs*bG8=", 10), Err(SamlError::BadBase64));
        assert_eq!(decode_base64("aGVsbG8=", 4), Err(SamlError::TooLarge { limit: 4 }));
        assert_eq!(decode_base64(&"A".repeat(100), 10), Err(SamlError::TooLarge { limit: 10 }));
    }

    #[test]
    fn inflate_stops_at_the_cap() {
        let bomb = deflate(&vec![b'A'; 1 << 20]).unwrap_or_default();
        assert!(bomb.len() < 5000);
        assert_eq!(inflate_capped(&bomb, 1000), Err(SamlError::TooLarge { limit: 1000 }));
        assert_eq!(inflate_capped(b"not deflate at all", 1000), Err(SamlError::BadDeflate));
    }

    #[test]
    fn doctype_in_any_case_is_refused() {
        assert!(refuse_doctype("<!DOCTYPE x><x/>").is_err());
        assert!(refuse_doctype("<?xml version='1.0'?><!doctype x [<!ENTITY a 'b'>]><x/>").is_err());
        assert!(refuse_doctype("<x>DOCTYPE</x>").is_ok());
    }

    #[test]
    fn percent_round_trip() {
        let v = "a b+/=?&é~";
        assert_eq!(percent_decode(&percent_encode(v)).ok().as_deref(), Some(v));
        assert_eq!(percent_encode("a+b/c="), "a%2Bb%2Fc%3D");
        assert!(percent_decode("%zz").is_err());
        let pairs = raw_query_pairs("/sso?SAMLRequest=a%2B&RelayState=x&SigAlg=s").unwrap_or_default();
        assert_eq!(pairs, vec![("SAMLRequest".to_string(), "a%2B"), ("RelayState".into(), "x"), ("SigAlg".into(), "s")]);
    }
}
