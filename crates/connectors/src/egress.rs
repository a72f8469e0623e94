//! The egress rule: which addresses idhub's outbound calls may reach, kept in this one
//! place so every caller (the Org2Org hub today, SCIM and OIDC later) obeys it.
//!
//! A target is given as an origin (http or https, a host, an optional port; nothing
//! else). Its host is resolved, and addresses that are not public (loopback, RFC 1918,
//! CGNAT, link-local with the cloud metadata address, IPv6 ULA and link-local,
//! unspecified, multicast, broadcast, and IPv4-mapped forms of these) are refused unless
//! the operator's allow-list (`egress.allow`) names them. [`Egress`] holds the only
//! HTTP client outbound code may use: its resolver applies the rule to every name at
//! connect time and hands the connector only the addresses it checked (so a name cannot
//! rebind to another address between the check and the connection), IP literals are
//! checked before a request is built, no proxy is used and redirects are not followed.

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::{Method, RequestBuilder, Url};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Why a target or an allow-list entry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EgressError {
    /// The URL is not a bare http(s) origin; the text says what is wrong.
    #[error("{0}")]
    NotAnOrigin(&'static str),
    /// Every address of the host is internal and none is on the allow-list.
    #[error("the address of {0} is not allowed by the egress rule")]
    NotAllowed(String),
    /// The host name does not resolve.
    #[error("the host name {0} does not resolve")]
    Unresolved(String),
    /// An `egress.allow` entry is neither a CIDR, an IP address nor a host name.
    #[error("egress.allow: {0:?} is not a CIDR, an IP address or a host name")]
    BadAllowEntry(String),
    /// The HTTP client could not be built (TLS backend).
    #[error("the HTTP client could not be built: {0}")]
    Client(String),
}

/// Check that `url` is an origin and return it normalised (`https://host[:port]`, the
/// default port dropped, the host lower-cased): http or https, a host, no user info, no
/// path other than `/`, no query, no fragment.
pub fn parse_origin(url: &str) -> Result<String, EgressError> {
    let u = Url::parse(url.trim()).map_err(|_| EgressError::NotAnOrigin("must be an http or https URL"))?;
    if u.scheme() != "http" && u.scheme() != "https" {
        return Err(EgressError::NotAnOrigin("must be an http or https URL"));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(EgressError::NotAnOrigin("must not carry a user name or password"));
    }
    if u.host().is_none() {
        return Err(EgressError::NotAnOrigin("must name a host"));
    }
    if u.path() != "/" && !u.path().is_empty() {
        return Err(EgressError::NotAnOrigin("must be an origin (scheme, host and port) without a path"));
    }
    if u.query().is_some() {
        return Err(EgressError::NotAnOrigin("must be an origin (scheme, host and port) without a query"));
    }
    if u.fragment().is_some() {
        return Err(EgressError::NotAnOrigin("must be an origin (scheme, host and port) without a fragment"));
    }
    Ok(u.origin().ascii_serialization())
}

/// Do two URLs have the same origin (scheme, host, port)? Unparsable URLs never match.
pub fn same_origin(a: &str, b: &str) -> bool {
    match (Url::parse(a.trim()), Url::parse(b.trim())) {
        (Ok(a), Ok(b)) => a.origin().is_tuple() && a.origin() == b.origin(),
        _ => false,
    }
}

/// Is `ip` outside the public internet (refused unless allowed)?
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => is_internal_v6(v6),
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0                                          // "this network", 0.0.0.0
        || a == 10                                  // RFC 1918
        || a == 127                                 // loopback
        || (a == 100 && (64..128).contains(&b))     // CGNAT 100.64/10
        || (a == 169 && b == 254)                   // link-local, 169.254.169.254
        || (a == 172 && (16..32).contains(&b))      // RFC 1918
        || (a == 192 && b == 168)                   // RFC 1918
        || (a == 192 && b == 0 && c == 0)           // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)           // documentation
        || (a == 198 && (18..20).contains(&b))      // benchmarking 198.18/15
        || (a == 198 && b == 51 && c == 100)        // documentation
        || (a == 203 && b == 0 && c == 113)         // documentation
        || a >= 224 // multicast 224/4, reserved 240/4, broadcast
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if let Some(v4) = embedded_v4(ip) {
        return is_internal_v4(v4);
    }
    ip.is_unspecified()
        || ip.is_loopback()
        || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
        || (s[0] & 0xff00) == 0xff00 // multicast ff00::/8
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard 100::/64
        || (s[0] == 0x0064 && s[1] == 0xff9b && s[2] == 1) // local-use NAT64 64:ff9b:1::/48
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible
/// (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) or 6to4 (`2002:aabb:ccdd::`) address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(low),
        // `::` and `::1` are themselves, not 0.0.0.0 and 0.0.0.1.
        [0, 0, 0, 0, 0, 0, 0, 0 | 1] => None,
        [0, 0, 0, 0, 0, 0, _, _] => Some(low),
        [0x0064, 0xff9b, 0, 0, 0, 0, _, _] => Some(low),
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)),
        _ => None,
    }
}

/// The rule itself: internal addresses are refused unless an allow-list entry (a CIDR,
/// an IP address or a host name) permits them. Pure: it never resolves or connects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EgressPolicy {
    nets: Vec<IpNet>,
    hosts: Vec<String>,
}

impl EgressPolicy {
    /// The rule with the operator's allow-list (`egress.allow`): CIDRs (`127.0.0.0/8`,
    /// `fd00::/8`), single addresses, or host names whose every address is then allowed.
    pub fn new<S: AsRef<str>>(allow: &[S]) -> Result<Self, EgressError> {
        let mut policy = EgressPolicy::default();
        for entry in allow {
            let e = entry.as_ref().trim();
            if let Ok(net) = e.parse::<IpNet>() {
                policy.nets.push(net);
            } else if let Ok(ip) = e.parse::<IpAddr>() {
                policy.nets.push(IpNet::from(ip));
            } else if is_host_name(e) {
                policy.hosts.push(e.trim_end_matches('.').to_ascii_lowercase());
            } else {
                return Err(EgressError::BadAllowEntry(e.to_string()));
            }
        }
        Ok(policy)
    }

    /// May a connection go to `ip`, reached through the host name `host` (none for an
    /// IP literal)?
    pub fn permits(&self, host: Option<&str>, ip: IpAddr) -> bool {
        if !is_internal(ip) {
            return true;
        }
        if let Some(h) = host {
            let h = h.trim_end_matches('.').to_ascii_lowercase();
            if self.hosts.contains(&h) {
                return true;
            }
        }
        let mapped = match ip {
            IpAddr::V6(v6) => embedded_v4(v6).map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        self.nets.iter().any(|n| n.contains(&ip) || mapped.is_some_and(|m| n.contains(&m)))
    }

    /// The addresses of `host` this rule lets a connection use, resolved once: those
    /// permitted (an error when there are none). An IP literal is checked as it is.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, EgressError> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return if self.permits(None, ip) {
                Ok(vec![SocketAddr::new(ip, port)])
            } else {
                Err(EgressError::NotAllowed(host.to_string()))
            };
        }
        let found: Vec<SocketAddr> = match tokio::net::lookup_host((bare, port)).await {
            Ok(addrs) => addrs.collect(),
            Err(_) => vec![],
        };
        if found.is_empty() {
            return Err(EgressError::Unresolved(host.to_string()));
        }
        let allowed: Vec<SocketAddr> = found.into_iter().filter(|a| self.permits(Some(bare), a.ip())).collect();
        if allowed.is_empty() {
            return Err(EgressError::NotAllowed(host.to_string()));
        }
        Ok(allowed)
    }
}

fn is_host_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.trim_end_matches('.').split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// The resolver of [`Egress`]'s client: names are resolved once and only the permitted
/// addresses are handed to the connector.
struct CheckedResolver(Arc<EgressPolicy>);

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            // Port 0: reqwest puts the URL's port in.
            let addrs = policy.resolve(&host, 0).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The egress rule with the one HTTP client outbound code may use. Cheap to clone; the
/// clones share the client's connection pool.
#[derive(Clone, Default)]
pub struct Egress {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    policy: Arc<EgressPolicy>,
    http: OnceLock<reqwest::Client>,
}

impl std::fmt::Debug for Egress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Egress").field("policy", &self.inner.policy).finish()
    }
}

impl Egress {
    /// Outbound calls under `policy`.
    pub fn new(policy: EgressPolicy) -> Self {
        Egress { inner: Arc::new(Inner { policy: Arc::new(policy), http: OnceLock::new() }) }
    }

    /// The rule in force.
    pub fn policy(&self) -> &EgressPolicy {
        &self.inner.policy
    }

    /// Check a target given by an administrator: an origin (see [`parse_origin`]) whose
    /// host resolves to at least one permitted address. Returns the normalised origin.
    /// Never connects.
    pub async fn check_origin(&self, url: &str) -> Result<String, EgressError> {
        let origin = parse_origin(url)?;
        let u = Url::parse(&origin).map_err(|_| EgressError::NotAnOrigin("must be an http or https URL"))?;
        let host = u.host_str().ok_or(EgressError::NotAnOrigin("must name a host"))?;
        self.inner.policy.resolve(host, u.port_or_known_default().unwrap_or(0)).await?;
        Ok(origin)
    }

    /// A request to `url` on the shared client. An IP-literal host is checked here; a
    /// host name is checked by the client's resolver when it connects.
    pub fn request(&self, method: Method, url: &str) -> Result<RequestBuilder, EgressError> {
        let u = Url::parse(url).map_err(|_| EgressError::NotAnOrigin("must be an http or https URL"))?;
        if u.scheme() != "http" && u.scheme() != "https" {
            return Err(EgressError::NotAnOrigin("must be an http or https URL"));
        }
        let literal = match u.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            Some(url::Host::Domain(_)) => None,
            None => return Err(EgressError::NotAnOrigin("must name a host")),
        };
        if let Some(ip) = literal {
            if !self.inner.policy.permits(None, ip) {
                return Err(EgressError::NotAllowed(u.host_str().unwrap_or_default().to_string()));
            }
        }
        Ok(self.client()?.request(method, u))
    }

    fn client(&self) -> Result<&reqwest::Client, EgressError> {
        if let Some(c) = self.inner.http.get() {
            return Ok(c);
        }
        let c = reqwest::Client::builder()
            .dns_resolver(Arc::new(CheckedResolver(self.inner.policy.clone())))
            // A proxy would resolve the name itself, out of the rule's reach.
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("idhub/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| EgressError::Client(e.to_string()))?;
        Ok(self.inner.http.get_or_init(|| c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }

    fn none() -> EgressPolicy {
        EgressPolicy::default()
    }

    #[test]
    fn public_addresses_pass_without_an_allow_list() {
        for a in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "100.128.0.1", "172.32.0.1", "169.253.1.1"] {
            assert!(none().permits(None, ip(a)), "{a}");
        }
    }

    #[test]
    fn loopback_is_refused_without_an_allow_list() {
        for a in ["127.0.0.1", "127.1.2.3", "::1"] {
            assert!(!none().permits(None, ip(a)), "{a}");
        }
    }

    #[test]
    fn rfc1918_ranges_are_refused() {
        for a in ["10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.254", "192.168.0.1", "192.168.255.1"] {
            assert!(!none().permits(None, ip(a)), "{a}");
        }
    }

    #[test]
    fn link_local_and_the_metadata_address_are_refused() {
        assert!(!none().permits(None, ip("169.254.169.254")));
        assert!(!none().permits(None, ip("169.254.0.1")));
        assert!(!none().permits(None, ip("fe80::1")));
        assert!(!none().permits(None, ip("febf::1")));
    }

    #[test]
    fn cgnat_is_refused() {
        assert!(!none().permits(None, ip("100.64.0.1")));
        assert!(!none().permits(None, ip("100.127.255.255")));
    }

    #[test]
    fn ipv6_unique_local_is_refused() {
        assert!(!none().permits(None, ip("fc00::")));
        assert!(!none().permits(None, ip("fd12:3456::1")));
    }

    #[test]
    fn unspecified_multicast_and_broadcast_are_refused() {
        for a in ["0.0.0.0", "0.1.2.3", "224.0.0.1", "239.255.255.250", "255.255.255.255", "240.0.0.1", "::", "ff02::1"] {
            assert!(!none().permits(None, ip(a)), "{a}");
        }
    }

    #[test]
    fn ipv4_mapped_and_embedded_forms_are_refused() {
        for a in ["::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::127.0.0.1", "64:ff9b::a00:1", "2002:7f00:1::"] {
            assert!(!none().permits(None, ip(a)), "{a}");
        }
        assert!(none().permits(None, ip("::ffff:8.8.8.8")));
    }

    #[test]
    fn the_allow_list_takes_cidrs_addresses_and_host_names() {
        let p = EgressPolicy::new(&["127.0.0.0/8", "10.1.2.3", "hub.internal", "fd00::/8"]).unwrap_or_default();
        assert!(p.permits(None, ip("127.0.0.2")));
        assert!(p.permits(None, ip("::ffff:127.0.0.1")), "the mapped form of an allowed address");
        assert!(p.permits(None, ip("10.1.2.3")));
        assert!(!p.permits(None, ip("10.1.2.4")));
        assert!(p.permits(None, ip("fd00::5")));
        assert!(!p.permits(None, ip("::1")), "127.0.0.0/8 is not ::1");
        assert!(p.permits(Some("HUB.internal."), ip("192.168.1.1")), "an allowed name may resolve anywhere");
        assert!(!p.permits(Some("other.internal"), ip("192.168.1.1")));
        for bad in ["10.0.0.0/33", "not a host", "*", "http://x/", ""] {
            assert_eq!(EgressPolicy::new(&[bad]), Err(EgressError::BadAllowEntry(bad.to_string())), "{bad:?}");
        }
    }

    #[test]
    fn only_a_bare_origin_is_accepted() {
        assert_eq!(parse_origin("https://Hub.Example.com/").as_deref(), Ok("https://hub.example.com"));
        assert_eq!(parse_origin("http://h:8080").as_deref(), Ok("http://h:8080"));
        assert_eq!(parse_origin("https://h:443").as_deref(), Ok("https://h"));
        for bad in [
            "http://h/api/v1",
            "http://h/?x=1",
            "http://h?",
            "http://h/#f",
            "http://user:pw@h/",
            "http://user@h/",
            "ftp://h/",
            "javascript:alert(1)",
            "h.example.com",
            "http://h\\x",
        ] {
            assert!(matches!(parse_origin(bad), Err(EgressError::NotAnOrigin(_))), "{bad}");
        }
        assert!(same_origin("http://h:80/", "http://H"));
        assert!(!same_origin("http://h", "https://h"));
        assert!(!same_origin("http://h:8080", "http://h:8081"));
    }

    /// Numeric host spellings are read as the addresses they are (as a browser would)
    /// and refused before any resolution or connection.
    #[tokio::test]
    async fn numeric_spellings_of_loopback_are_refused() {
        let e = Egress::new(none());
        for url in ["http://2130706433/", "http://0x7f000001/", "http://0177.0.0.1/", "http://127.1/", "http://[::ffff:127.0.0.1]/"] {
            assert!(matches!(e.check_origin(url).await, Err(EgressError::NotAllowed(_))), "{url}");
            assert!(matches!(e.request(Method::GET, url), Err(EgressError::NotAllowed(_))), "{url}");
        }
        for url in ["http://10.0.0.1/", "http://172.16.0.1/", "http://192.168.1.1/", "http://169.254.169.254/", "http://100.64.0.1/"] {
            assert!(matches!(e.check_origin(url).await, Err(EgressError::NotAllowed(_))), "{url}");
            assert!(matches!(e.request(Method::GET, url), Err(EgressError::NotAllowed(_))), "{url}");
        }
        for url in ["http://[::1]/", "http://[fc00::]/", "http://[fe80::1]/", "http://0.0.0.0/", "http://[::]/"] {
            assert!(matches!(e.check_origin(url).await, Err(EgressError::NotAllowed(_))), "{url}");
            assert!(matches!(e.request(Method::GET, url), Err(EgressError::NotAllowed(_))), "{url}");
        }
    }

    /// A name that resolves to loopback (`localhost`, from the hosts file) is refused.
    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused() {
        let e = Egress::new(none());
        assert!(matches!(e.check_origin("http://localhost:8080").await, Err(EgressError::NotAllowed(_))));
        let allowed = Egress::new(EgressPolicy::new(&["127.0.0.0/8"]).unwrap_or_default());
        assert_eq!(allowed.check_origin("http://LOCALHOST:8080/").await.as_deref(), Ok("http://localhost:8080"));
    }
}
