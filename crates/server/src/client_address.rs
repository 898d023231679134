//! Who a request comes from. The peer address, unless the peer is a configured trusted proxy:
//! then its `X-Forwarded-For` is believed, hop by hop from the right, for as long as each hop is
//! itself trusted. A forwarding header from anyone else is ignored, so a client cannot pick the
//! address it is rate-limited or throttled by. (Absolute URLs never come from request headers
//! at all: they are built from `server.public_url`.)

use std::net::IpAddr;

use actix_web::HttpRequest;
use ipnet::IpNet;

use crate::settings::ClientSettings;

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

/// The key that limits count a client by: an IPv4 address alone, an IPv6 address by its
/// network of `ipv6_prefix_length` bits (a /64 is usually one subscriber, who can pick any
/// address in it). IPv4 addresses mapped into IPv6 count as IPv4.
pub fn network_key(address: IpAddr, ipv6_prefix_length: u8) -> IpAddr {
    match canonical(address) {
        IpAddr::V6(v6) => {
            let prefix = u32::from(ipv6_prefix_length.min(128));
            let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
            IpAddr::V6(std::net::Ipv6Addr::from(u128::from(v6) & mask))
        }
        v4 => v4,
    }
}

/// The key a request's client is counted by in limits and throttles (`network_key` of its
/// address), `None` only when the connection has no peer address.
pub fn client_key(request: &HttpRequest, clients: &ClientSettings) -> Option<IpAddr> {
    client_address(request, &clients.trusted_proxies)
        .map(|address| network_key(address, clients.ipv6_prefix_length))
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
    fn ipv6_clients_in_one_network_share_a_key() {
        assert_eq!(
            network_key(ip("2001:db8:1:2::1"), 64),
            network_key(ip("2001:db8:1:2:ffff:eeee:dddd:cccc"), 64)
        );
        assert_eq!(network_key(ip("2001:db8:1:2::1"), 64), ip("2001:db8:1:2::"));
    }

    #[test]
    fn ipv6_clients_in_different_networks_have_different_keys() {
        assert_ne!(
            network_key(ip("2001:db8:1:2::1"), 64),
            network_key(ip("2001:db8:1:3::1"), 64)
        );
        assert_ne!(
            network_key(ip("2001:db8:1::1"), 48),
            network_key(ip("2001:db8:2::1"), 48)
        );
        assert_eq!(
            network_key(ip("2001:db8:1:2::1"), 48),
            network_key(ip("2001:db8:1:3::1"), 48)
        );
    }

    #[test]
    fn prefix_128_keys_each_ipv6_address_alone() {
        assert_eq!(network_key(ip("2001:db8::1"), 128), ip("2001:db8::1"));
        assert_ne!(
            network_key(ip("2001:db8::1"), 128),
            network_key(ip("2001:db8::2"), 128)
        );
    }

    #[test]
    fn ipv4_clients_are_keyed_by_address_even_when_mapped_into_ipv6() {
        assert_eq!(network_key(ip("192.0.2.1"), 64), ip("192.0.2.1"));
        assert_ne!(
            network_key(ip("192.0.2.1"), 64),
            network_key(ip("192.0.2.2"), 64)
        );
        assert_eq!(network_key(ip("::ffff:192.0.2.1"), 64), ip("192.0.2.1"));
    }

    #[test]
    fn entries_must_be_addresses_or_ranges() {
        assert!(TrustedProxies::parse(&["10.0.0.0/33".into()]).is_err());
        assert!(TrustedProxies::parse(&["proxy.internal".into()]).is_err());
        assert!(TrustedProxies::parse(&["::1".into(), "fd00::/8".into()]).is_ok());
    }
}
