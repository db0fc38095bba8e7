//! Who the client is, for the failure limiter: the connection's peer, or,
//! when the peer is a proxy the server was told to trust
//! (`custody serve --trusted-proxy`), the address that proxy says it
//! forwarded for (`Forwarded: for=`, else `X-Forwarded-For`). Without a
//! trusted proxy those headers are ignored: anyone can send them.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderMap;
use ipnet::IpNet;

/// An address or a CIDR block of proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedProxy(IpNet);

impl FromStr for TrustedProxy {
    type Err = String;

    fn from_str(s: &str) -> Result<TrustedProxy, String> {
        if let Ok(net) = s.parse::<IpNet>() {
            return Ok(TrustedProxy(net.trunc()));
        }
        s.parse::<IpAddr>()
            .map(|a| TrustedProxy(IpNet::from(a)))
            .map_err(|_| {
                format!("`{s}` is neither an address (10.0.0.1, ::1) nor a CIDR block (10.0.0.0/8)")
            })
    }
}

fn trusted(a: IpAddr, proxies: &[TrustedProxy]) -> bool {
    let a = a.to_canonical();
    proxies.iter().any(|p| p.0.contains(&a))
}

/// The address a request came from (see the module's note).
pub fn client_ip(req: &Request, proxies: &[TrustedProxy]) -> IpAddr {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    forwarded_for(peer, req.headers(), proxies)
}

/// The client behind `peer`: walking the forwarded chain from the nearest
/// hop outwards, the first address that is not a trusted proxy. Each
/// proxy appends the address it heard from, so only the hops that trusted
/// proxies added can be believed; anything left of them the client wrote.
pub fn forwarded_for(peer: IpAddr, headers: &HeaderMap, proxies: &[TrustedProxy]) -> IpAddr {
    if !trusted(peer, proxies) {
        return peer;
    }
    let mut client = peer;
    for hop in chain(headers).iter().rev() {
        match hop {
            Some(a) if trusted(*a, proxies) => client = *a,
            Some(a) => return *a,
            // A hop that names no address ("unknown", an obfuscated name):
            // nothing further out can be believed.
            None => return client,
        }
    }
    client
}

/// The forwarded addresses, nearest last: `Forwarded`'s `for=` if the
/// request has that header, else `X-Forwarded-For`.
fn chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<&str>>()
    };
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.trim().split_once('='))
                    .find(|(k, _)| k.eq_ignore_ascii_case("for"))
                    .and_then(|(_, v)| node(v.trim_matches('"')))
            })
            .collect();
    }
    values("x-forwarded-for").into_iter().map(node).collect()
}

/// An address as a forwarding header writes it: `192.0.2.1`,
/// `192.0.2.1:4711`, `[2001:db8::1]` or `[2001:db8::1]:4711`.
fn node(v: &str) -> Option<IpAddr> {
    if let Ok(a) = v.parse::<IpAddr>() {
        return Some(a);
    }
    if let Some(rest) = v.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    v.parse::<SocketAddr>().ok().map(|s| s.ip())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    /// A header's name and value.
    type Header = (&'static str, &'static str);

    #[test]
    fn the_client_is_the_first_untrusted_hop_and_only_behind_a_trusted_proxy() {
        let proxies: Vec<TrustedProxy> = ["10.0.0.0/8", "::1"]
            .iter()
            .map(|p| p.parse().unwrap())
            .collect();
        // (peer, headers, client)
        let cases: &[(&str, &[Header], &str)] = &[
            (
                "203.0.113.9",
                &[("x-forwarded-for", "198.51.100.1")],
                "203.0.113.9",
            ),
            ("10.0.0.2", &[], "10.0.0.2"),
            (
                "10.0.0.2",
                &[("x-forwarded-for", "198.51.100.1")],
                "198.51.100.1",
            ),
            (
                "10.0.0.2",
                &[("x-forwarded-for", "6.6.6.6, 198.51.100.1, 10.1.1.1")],
                "198.51.100.1",
            ),
            (
                "10.0.0.2",
                &[
                    ("x-forwarded-for", "6.6.6.6"),
                    ("x-forwarded-for", "198.51.100.1"),
                ],
                "198.51.100.1",
            ),
            ("10.0.0.2", &[("x-forwarded-for", "unknown")], "10.0.0.2"),
            (
                "::1",
                &[("x-forwarded-for", "[2001:db8::7]:443")],
                "2001:db8::7",
            ),
            (
                "10.0.0.2",
                &[(
                    "forwarded",
                    "for=6.6.6.6, for=\"198.51.100.1:80\";proto=https",
                )],
                "198.51.100.1",
            ),
            (
                "10.0.0.2",
                &[
                    ("forwarded", "for=\"[2001:db8::7]\""),
                    ("x-forwarded-for", "6.6.6.6"),
                ],
                "2001:db8::7",
            ),
            ("10.0.0.2", &[("forwarded", "for=_hidden")], "10.0.0.2"),
        ];
        for (peer, headers, want) in cases {
            let mut h = HeaderMap::new();
            for (k, v) in *headers {
                h.append(*k, HeaderValue::from_str(v).unwrap());
            }
            let got = forwarded_for(peer.parse().unwrap(), &h, &proxies);
            assert_eq!(got, want.parse::<IpAddr>().unwrap(), "{peer} {headers:?}");
        }
    }

    #[test]
    fn a_trusted_proxy_is_an_address_or_a_block() {
        assert!("10.0.0.1".parse::<TrustedProxy>().is_ok());
        assert!("10.0.0.0/8".parse::<TrustedProxy>().is_ok());
        assert!("fd00::/8".parse::<TrustedProxy>().is_ok());
        let e = "proxy.example".parse::<TrustedProxy>().unwrap_err();
        assert!(e.contains("neither an address"), "{e}");
    }
}
