//! The client's address: the TCP peer, or, when the peer is a reverse proxy the operator
//! trusts (`--trusted-proxy`), the address that proxy forwarded in `X-Forwarded-For`.
//!
//! Anything per client (failed-login counts, connection caps, rate limits) keys on
//! [`client_ip`] or the [`ClientIp`] extractor, never on the peer alone: behind nginx every
//! peer is nginx, and one address would stand for every candidate.
//!
//! `X-Forwarded-For` is a list each proxy appends its own peer to, and whatever the client
//! sent comes first. So it is read from the right: each address a trusted proxy gave is
//! believed only while that address is itself a trusted proxy; the first that is not is
//! the client. A client cannot make itself someone else by sending the header: what it
//! sent sits left of the address its first trusted proxy appended.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use super::AppState;
use crate::error::ApiError;

/// The reverse proxies whose `X-Forwarded-For` is believed: addresses or CIDR blocks.
/// Empty by default: the peer is the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn new(proxies: Vec<IpNet>) -> TrustedProxies {
        TrustedProxies(proxies)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }
}

/// One `--trusted-proxy` value: an address (`10.0.0.5`, `::1`) or a block (`10.0.0.0/8`).
pub fn parse_proxy(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    IpNet::from_str(s)
        .or_else(|_| IpAddr::from_str(s).map(IpNet::from))
        .map_err(|_| format!("{s:?} is not an address or CIDR block (like 10.0.0.1, 10.0.0.0/8 or fd00::/8)"))
}

/// The client's address for a request that came from `peer` with `headers`.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, proxies: &TrustedProxies) -> IpAddr {
    let mut client = peer.to_canonical();
    if !proxies.trusts(client) {
        return client;
    }
    // Several header lines are one list, in order (RFC 9110, 5.3).
    let lines: Vec<&str> =
        headers.get_all("x-forwarded-for").iter().map(|v| v.to_str().unwrap_or("not an address")).collect();
    for hop in lines.iter().rev().flat_map(|line| line.rsplit(',')) {
        // Something a trusted proxy would not write: the last address believed stands.
        let Some(ip) = parse_hop(hop) else { break };
        client = ip;
        if !proxies.trusts(client) {
            break;
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5678`,
/// `[::1]:80`), as some proxies write it.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    let ip = IpAddr::from_str(hop).ok().or_else(|| SocketAddr::from_str(hop).ok().map(|s| s.ip()))?;
    Some(ip.to_canonical())
}

/// The client's address as a handler argument (see [`client_ip`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<ClientIp, ApiError> {
        let ConnectInfo(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .ok_or_else(|| ApiError::internal("client address", &"the router was served without connect info"))?;
        Ok(ClientIp(client_ip(peer.ip(), &parts.headers, &state.proxies)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(list.iter().map(|s| parse_proxy(s).expect("proxy")).collect())
    }

    #[track_caller]
    fn check(peer: &str, forwarded: &[&str], trusted: &[&str], expected: &str) {
        let mut headers = HeaderMap::new();
        for line in forwarded {
            headers.append("x-forwarded-for", line.parse().expect("header"));
        }
        let got = client_ip(peer.parse().expect("peer"), &headers, &proxies(trusted));
        assert_eq!(got, expected.parse::<IpAddr>().expect("expected"), "peer {peer}, {forwarded:?}, {trusted:?}");
    }

    #[test]
    fn the_forwarded_address_is_believed_only_from_trusted_hops() {
        // No proxy trusted: the header is anyone's to write.
        check("203.0.113.9", &["198.51.100.1"], &[], "203.0.113.9");
        // From a trusted proxy: the address it appended.
        check("127.0.0.1", &["198.51.100.1"], &["127.0.0.1"], "198.51.100.1");
        // What the client sent sits left of that and is ignored.
        check("127.0.0.1", &["10.9.9.9, 198.51.100.1"], &["127.0.0.1"], "198.51.100.1");
        check("127.0.0.1", &["10.9.9.9", "198.51.100.1"], &["127.0.0.1"], "198.51.100.1");
        // A chain of trusted proxies (a CDN, then nginx) is walked from the right.
        check("127.0.0.1", &["1.1.1.1, 198.51.100.1, 10.0.0.7"], &["127.0.0.1", "10.0.0.0/8"], "198.51.100.1");
        // A peer that is not trusted is the client even if it sends the header.
        check("203.0.113.9", &["198.51.100.1"], &["10.0.0.0/8"], "203.0.113.9");
        // A trusted proxy that forwarded nothing: the proxy is the client.
        check("127.0.0.1", &[], &["127.0.0.1"], "127.0.0.1");
        // Garbage where a trusted proxy's entry should be: the last believed address.
        check("127.0.0.1", &["198.51.100.1, junk, 10.0.0.7"], &["127.0.0.1", "10.0.0.0/8"], "10.0.0.7");
        // Ports and IPv4-mapped IPv6 addresses are read as the address.
        check("::ffff:127.0.0.1", &["198.51.100.1:4711"], &["127.0.0.1"], "198.51.100.1");
        check("::1", &["[2001:db8::5]:443"], &["::1"], "2001:db8::5");
    }

    #[test]
    fn a_trusted_proxy_is_an_address_or_a_block() {
        assert_eq!(parse_proxy("10.0.0.1"), Ok("10.0.0.1/32".parse().expect("net")));
        assert_eq!(parse_proxy(" fd00::/8 "), Ok("fd00::/8".parse().expect("net")));
        let err = parse_proxy("nginx").expect_err("a name is not an address");
        assert!(err.contains("\"nginx\""), "{err}");
    }
}
