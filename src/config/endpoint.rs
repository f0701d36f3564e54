//! Endpoint URLs (`ws_url`, `rest_url`): `scheme://host[:port][/path]`.
//!
//! Refused, each naming the key: another scheme, no host, a port that is
//! not 1..=65535 (port 0 would mean "any port" to a listener, and nothing to
//! connect to), credentials (`user:pass@host`: tickwire sends none, and the
//! error never repeats them), and a query or fragment (the stream and
//! snapshot paths are appended to the URL).

use super::{ConfigError, invalid};

/// A parsed endpoint URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// `ws`/`wss`/`http`/`https`.
    pub tls: bool,
    /// Host name or IP literal.
    pub host: String,
    /// Port.
    pub port: u16,
    /// The URL as given, without a trailing slash.
    pub base: String,
}

impl Endpoint {
    /// Parses `scheme://host[:port][/path]` for the allowed schemes
    /// (`[plain, tls]`); errors name `key`.
    pub(super) fn parse(key: &str, url: &str, schemes: [&str; 2]) -> Result<Endpoint, ConfigError> {
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(invalid(key, format!("{:?} is not a URL", redacted(url))));
        };
        let tls = if scheme == schemes[0] {
            false
        } else if scheme == schemes[1] {
            true
        } else {
            return Err(invalid(
                key,
                format!(
                    "scheme must be {} or {}, got {:?}",
                    schemes[0],
                    schemes[1],
                    redacted(scheme)
                ),
            ));
        };
        let authority = rest.split('/').next().unwrap_or_default();
        if authority.contains('@') {
            return Err(invalid(
                key,
                "must not contain credentials (user:password@host): \
                 tickwire sends none, and a URL is logged",
            ));
        }
        if rest.contains(['?', '#']) {
            return Err(invalid(
                key,
                format!(
                    "{url:?} has a query or fragment: give the base URL only \
                     (the stream and snapshot paths are appended to it)"
                ),
            ));
        }
        let (host, port) = split_host_port(key, authority)?;
        if host.is_empty() {
            return Err(invalid(key, format!("{url:?} has no host")));
        }
        let port = match port {
            None if tls => 443,
            None => 80,
            Some(p) => match p.parse::<u16>() {
                Ok(0) => return Err(invalid(key, "port 0 is not a port to connect to")),
                Ok(p) => p,
                Err(_) => return Err(invalid(key, format!("bad port {p:?}"))),
            },
        };
        Ok(Endpoint {
            tls,
            host: host.to_owned(),
            port,
            base: url.trim_end_matches('/').to_owned(),
        })
    }
}

/// `host` and the port text of an authority (`[v6]:port` included).
fn split_host_port<'a>(
    key: &str,
    authority: &'a str,
) -> Result<(&'a str, Option<&'a str>), ConfigError> {
    let Some(bracketed) = authority.strip_prefix('[') else {
        return Ok(match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        });
    };
    let Some((host, after)) = bracketed.split_once(']') else {
        return Err(invalid(
            key,
            format!("{authority:?}: unclosed `[` in the host"),
        ));
    };
    if after.is_empty() {
        return Ok((host, None));
    }
    match after.strip_prefix(':') {
        Some(port) => Ok((host, Some(port))),
        None => Err(invalid(
            key,
            format!("{authority:?}: expected `:port` after `]`"),
        )),
    }
}

/// `text` with anything up to an `@` masked, so that no error repeats a
/// password.
fn redacted(text: &str) -> String {
    match text.rfind('@') {
        Some(at) => {
            let start = text.find("://").map_or(0, |i| i + 3).min(at);
            format!("{}***{}", &text[..start], &text[at..])
        }
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Result<Endpoint, String> {
        Endpoint::parse("k", url, ["ws", "wss"]).map_err(|e| e.to_string())
    }

    #[test]
    fn hosts_and_ports() {
        let e = parse("wss://[::1]:9443/x/").unwrap();
        assert_eq!((e.host.as_str(), e.port, e.tls), ("::1", 9443, true));
        assert_eq!(e.base, "wss://[::1]:9443/x");
        assert_eq!(parse("ws://h").unwrap().port, 80);
        assert!(parse("ws://[::1").is_err());
        assert!(parse("ws://[::1]x").is_err());
        assert!(parse("ws://h:1:2").is_err());
        assert!(parse("ws://h:65536").is_err());
    }

    #[test]
    fn no_error_repeats_a_password() {
        for url in ["user:pw@host", "ftp://user:pw@host", "ws://u:pw@h:1"] {
            let e = parse(url).unwrap_err();
            assert!(!e.contains("pw"), "{e}");
        }
    }
}
