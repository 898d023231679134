//! Who a request comes from. The peer address, unless the peer is a configured trusted proxy:
//! then its `X-Forwarded-For` is believed, hop by hop from the right, for as long as each hop is
//! itself trusted. A forwarding header from anyone else is ignored, so a client cannot pick the
//! address it is rate-limited or throttled by. (Absolute URLs never come from request headers
//! at all: they are built from `server.public_url`.)

use std::net::IpAddr;

use actix_web::HttpRequest;
use ipnet::IpNet;

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Addresses (`10.0.0.7`) or ranges (`10.0.0.0/8`, `fd00::/8`).
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        entries
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{entry:?} is not an IP address or range"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0.iter().any(|net| net.contains(&address))
    }
}

/// IPv4 addresses mapped into IPv6 (`::ffff:10.0.0.1`) as plain IPv4.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5678`,
/// `[2001:db8::1]:80`).
fn forwarded_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(address) = entry.parse::<IpAddr>() {
        return Some(address);
    }
    entry
        .parse::<std::net::SocketAddr>()
        .ok()
        .map(|socket| socket.ip())
}

/// The client's address as far as trusted proxies vouch for it.
pub fn resolve(peer: IpAddr, forwarded_for: &[&str], trusted: &TrustedProxies) -> IpAddr {
    let mut client = canonical(peer);
    let hops = forwarded_for
        .iter()
        .flat_map(|header| header.split(','))
        .collect::<Vec<_>>();
    for hop in hops.into_iter().rev() {
        if !trusted.contains(client) {
            break;
        }
        match forwarded_entry(hop) {
            Some(address) => client = canonical(address),
            None => break,
        }
    }
    client
}

/// The address a request comes from, `None` only when the connection has no peer address.
pub fn client_address(request: &HttpRequest, trusted: &TrustedProxies) -> Option<IpAddr> {
    let peer = request.peer_addr()?.ip();
    let forwarded: Vec<&str> = request
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|value| value.to_str().ok())
        .collect();
    Some(resolve(peer, &forwarded, trusted))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn forwarded_addresses_are_believed_only_through_trusted_proxies() {
        let trusted = TrustedProxies::parse(&["10.0.0.0/8".into(), "192.168.1.5".into()]).unwrap();
        let none = TrustedProxies::default();
        // No trusted proxy: the header is ignored.
        assert_eq!(
            resolve(ip("203.0.113.9"), &["1.2.3.4"], &none),
            ip("203.0.113.9")
        );
        assert_eq!(resolve(ip("10.0.0.1"), &["1.2.3.4"], &none), ip("10.0.0.1"));
        // From a trusted proxy: the client it names.
        assert_eq!(
            resolve(ip("10.0.0.1"), &["1.2.3.4"], &trusted),
            ip("1.2.3.4")
        );
        // A chain: the right-most address that is not a trusted proxy; what the client wrote
        // itself at the left is not believed.
        assert_eq!(
            resolve(ip("10.0.0.1"), &["6.6.6.6, 1.2.3.4, 192.168.1.5"], &trusted),
            ip("1.2.3.4")
        );
        assert_eq!(
            resolve(ip("10.0.0.1"), &["6.6.6.6", "1.2.3.4:4711"], &trusted),
            ip("1.2.3.4")
        );
        // An untrusted peer that claims to be forwarded by a trusted one is itself the client.
        assert_eq!(
            resolve(ip("1.2.3.4"), &["10.0.0.2"], &trusted),
            ip("1.2.3.4")
        );
        // Garbage stops the walk at the last trusted hop.
        assert_eq!(
            resolve(ip("10.0.0.1"), &["1.2.3.4, bogus"], &trusted),
            ip("10.0.0.1")
        );
        // Mapped IPv4 peers count as IPv4.
        assert_eq!(
            resolve(ip("::ffff:10.0.0.1"), &["[2001:db8::1]:80"], &trusted),
            ip("2001:db8::1")
        );
    }

    #[test]
    fn entries_must_be_addresses_or_ranges() {
        assert!(TrustedProxies::parse(&["10.0.0.0/33".into()]).is_err());
        assert!(TrustedProxies::parse(&["proxy.internal".into()]).is_err());
        assert!(TrustedProxies::parse(&["::1".into(), "fd00::/8".into()]).is_ok());
    }
}
