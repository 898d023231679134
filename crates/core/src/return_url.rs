//! Return URLs a marketplace hands us (HubSpot's `returnUrl`), validated before anything else
//! happens so that the gateway is never an open redirect.
//!
//! The rules: parse with the `url` crate; `https` only; the host must be exactly one of the app's
//! allowed hosts; no userinfo, no explicit port, no IP address; the raw text must be printable
//! ASCII without backslashes or percent-encoding in the authority (this refuses tab, newline and
//! Unicode full-stop tricks before a parser can normalise them into something allowed). Callers
//! redirect to the re-serialised URL, never to the raw input, and add parameters with the URL API.

use std::fmt;

use url::{Host, Url};

/// Host names a return URL may point at, compared label by label after ASCII lowercasing, never
/// as a suffix. A label may hold the placeholder [`HUBLET`] once, standing for one data-centre
/// name: lower-case letters, then digits (`na1`, `eu1`, `ap1`): `app-<hublet>.hubspot.com`
/// allows `app-na2.hubspot.com`, not `app-x.hubspot.com` nor `app-na2.hubspot.com.evil.example`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AllowedHosts(Vec<String>);

/// The placeholder for a data-centre name in an allowed host.
pub const HUBLET: &str = "<hublet>";

/// A configured allowed host that is not a plain DNS name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "an allowed return host must be a DNS name of letters, digits, '-' and '.' (one label may hold <hublet>), without scheme, port or path"
)]
pub struct InvalidAllowedHost;

/// Whether `name` is a data-centre name: one or more lower-case letters, then one or more digits.
fn is_hublet(name: &str) -> bool {
    let digits_from = name
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(name.len());
    let (letters, digits) = name.split_at(digits_from);
    !letters.is_empty()
        && !digits.is_empty()
        && letters.bytes().all(|b| b.is_ascii_lowercase())
        && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Whether the host label `label` matches the allowed label `allowed`.
fn label_matches(allowed: &str, label: &str) -> bool {
    // A host's label never holds `<`: equal, or unequal without a placeholder, decides it (the
    // placeholder is looked for only where there is one).
    if allowed == label {
        return true;
    }
    if !allowed.contains('<') {
        return false;
    }
    match allowed.split_once(HUBLET) {
        None => allowed == label,
        Some((before, after)) => label
            .strip_prefix(before)
            .and_then(|rest| rest.strip_suffix(after))
            .is_some_and(is_hublet),
    }
}

impl AllowedHosts {
    pub fn new<I, S>(hosts: I) -> Result<Self, InvalidAllowedHost>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut list = Vec::new();
        for host in hosts {
            let host = host.as_ref().to_ascii_lowercase();
            // The placeholder is checked as if it were a hublet name.
            let concrete = host.replacen(HUBLET, "na1", 1);
            let labels_ok = concrete.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            });
            let is_ip = concrete.parse::<std::net::IpAddr>().is_ok();
            // At least two fixed labels after a placeholder: never "<hublet>.com".
            let pattern_ok = match host.split_once(HUBLET) {
                None => true,
                Some((_, after)) => after.split('.').skip(1).count() >= 2,
            };
            if !labels_ok || is_ip || !pattern_ok || concrete.len() > 253 {
                return Err(InvalidAllowedHost);
            }
            if !list.contains(&host) {
                list.push(host);
            }
        }
        Ok(Self(list))
    }

    /// Whether `host` (lower-case, as the `url` crate gives it) is allowed.
    pub fn contains(&self, host: &str) -> bool {
        self.0.iter().any(|allowed| {
            let mut allowed_labels = allowed.split('.');
            let mut labels = host.split('.');
            loop {
                match (allowed_labels.next(), labels.next()) {
                    (None, None) => return true,
                    (Some(allowed), Some(label)) if label_matches(allowed, label) => {}
                    _ => return false,
                }
            }
        })
    }

    /// The hosts allowed by name alone (no placeholder): the ones a list of origins can name.
    pub fn exact(&self) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .map(String::as_str)
            .filter(|host| !host.contains(HUBLET))
    }

    /// Whether some allowed host holds a placeholder.
    pub fn has_patterns(&self) -> bool {
        self.0.iter().any(|host| host.contains(HUBLET))
    }

    /// Whether `host` is allowed only through a placeholder, not by name.
    pub fn by_pattern_only(&self, host: &str) -> bool {
        self.contains(host) && !self.exact().any(|exact| exact == host)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Why a return URL was refused. The messages never repeat the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReturnUrlError {
    #[error("the return URL is missing")]
    Missing,
    #[error("the return URL is longer than {} characters", ReturnUrl::MAX_LEN)]
    TooLong,
    #[error("the return URL contains characters that are not allowed")]
    ForbiddenCharacters,
    #[error("the return URL must be an absolute https URL")]
    NotHttps,
    #[error("the return URL could not be parsed")]
    Malformed,
    #[error("the return URL must not contain a user name or password")]
    UserInfo,
    #[error("the return URL must not name a port")]
    Port,
    #[error("the return URL must name a host by DNS name")]
    NotADomain,
    #[error("the return URL points at a host this app does not allow")]
    HostNotAllowed,
}

/// A return URL that passed every rule. Only this type can be redirected to.
#[derive(Clone, PartialEq, Eq)]
pub struct ReturnUrl(Url);

impl ReturnUrl {
    pub const MAX_LEN: usize = 2048;

    /// For local sandboxes only: also accepts `http://localhost:PORT/…` and
    /// `http://127.0.0.1:PORT/…`, where simulated marketplaces run. The other rules still apply.
    pub fn parse_allowing_loopback(
        raw: &str,
        allowed: &AllowedHosts,
    ) -> Result<Self, ReturnUrlError> {
        let loopback = ["http://localhost:", "http://127.0.0.1:"]
            .iter()
            .any(|prefix| {
                raw.get(..prefix.len())
                    .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
            });
        if !loopback {
            return Self::parse(raw, allowed);
        }
        if raw.len() > Self::MAX_LEN || !raw.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') {
            return Err(ReturnUrlError::ForbiddenCharacters);
        }
        let url = Url::parse(raw).map_err(|_| ReturnUrlError::Malformed)?;
        let host_ok = matches!(url.host_str(), Some("localhost" | "127.0.0.1"));
        if url.scheme() != "http"
            || !host_ok
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return Err(ReturnUrlError::Malformed);
        }
        Ok(Self(url))
    }

    pub fn parse(raw: &str, allowed: &AllowedHosts) -> Result<Self, ReturnUrlError> {
        if raw.is_empty() {
            return Err(ReturnUrlError::Missing);
        }
        if raw.len() > Self::MAX_LEN {
            return Err(ReturnUrlError::TooLong);
        }
        if !raw.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') {
            return Err(ReturnUrlError::ForbiddenCharacters);
        }
        let after_scheme = match raw.get(..8) {
            Some(prefix) if prefix.eq_ignore_ascii_case("https://") => &raw[8..],
            _ => return Err(ReturnUrlError::NotHttps),
        };
        let authority = after_scheme
            .split(['/', '?', '#'])
            .next()
            .unwrap_or_default();
        if authority.contains('@') {
            return Err(ReturnUrlError::UserInfo);
        }
        if authority.contains(':') {
            return Err(ReturnUrlError::Port);
        }
        if authority.is_empty() || authority.contains('%') {
            return Err(ReturnUrlError::Malformed);
        }

        let url = Url::parse(raw).map_err(|_| ReturnUrlError::Malformed)?;
        if url.scheme() != "https" {
            return Err(ReturnUrlError::NotHttps);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ReturnUrlError::UserInfo);
        }
        if url.port().is_some() {
            return Err(ReturnUrlError::Port);
        }
        match url.host() {
            Some(Host::Domain(host)) if allowed.contains(host) => Ok(Self(url)),
            Some(Host::Domain(_)) => Err(ReturnUrlError::HostNotAllowed),
            _ => Err(ReturnUrlError::NotADomain),
        }
    }

    /// The origin (`https://host`) that states are bound to.
    pub fn origin(&self) -> String {
        self.0.origin().ascii_serialization()
    }

    pub fn host(&self) -> &str {
        self.0.host_str().unwrap_or_default()
    }

    /// The URL with `params` set in its query: its own parameters are kept, except those of
    /// the same names, which `params` replace. A `state` planted in the return URL therefore
    /// never travels beside the gateway's own.
    pub fn with_params<'a>(&self, params: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let params: Vec<(&str, &str)> = params.into_iter().collect();
        let mut url = self.0.clone();
        let collides = url
            .query_pairs()
            .any(|(name, _)| params.iter().any(|(set, _)| *set == name));
        if !collides {
            // The URL's own query stays exactly as it came.
            url.query_pairs_mut().extend_pairs(params);
            return Self(url);
        }
        let kept: Vec<(String, String)> = self
            .0
            .query_pairs()
            .filter(|(name, _)| !params.iter().any(|(set, _)| set == name))
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
        url.set_query(None);
        url.query_pairs_mut()
            .extend_pairs(kept)
            .extend_pairs(params);
        Self(url)
    }

    pub fn as_url(&self) -> &Url {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Debug for ReturnUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The query may carry marketplace parameters; the origin is enough to debug with.
        write!(f, "ReturnUrl({}/…)", self.origin())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hubspot() -> AllowedHosts {
        AllowedHosts::new(["app.hubspot.com", "app-eu1.hubspot.com"]).unwrap()
    }

    #[test]
    fn accepts_allowed_hosts_and_reserialises() {
        let url = ReturnUrl::parse(
            "https://APP.hubspot.com/marketplace/install?portal=1&x=%20y",
            &hubspot(),
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            "https://app.hubspot.com/marketplace/install?portal=1&x=%20y"
        );
        assert_eq!(url.origin(), "https://app.hubspot.com");
    }

    #[test]
    fn with_params_keeps_the_urls_own_query() {
        let url =
            ReturnUrl::parse("https://app-eu1.hubspot.com/done?a=1&b=two", &hubspot()).unwrap();
        let out = url.with_params([("state", "s t"), ("scope", "a b")]);
        assert_eq!(
            out.as_str(),
            "https://app-eu1.hubspot.com/done?a=1&b=two&state=s+t&scope=a+b"
        );
    }

    #[test]
    fn with_params_replaces_parameters_of_the_same_name() {
        let url = ReturnUrl::parse(
            "https://app.hubspot.com/done?state=EVIL&a=1&scope=all&state=again",
            &hubspot(),
        )
        .unwrap();
        let out = url.with_params([("state", "real"), ("scope", "oauth")]);
        assert_eq!(
            out.as_str(),
            "https://app.hubspot.com/done?a=1&state=real&scope=oauth"
        );
    }

    #[test]
    fn refuses_hostile_urls() {
        let cases: &[(&str, ReturnUrlError)] = &[
            ("", ReturnUrlError::Missing),
            ("//app.hubspot.com/x", ReturnUrlError::NotHttps),
            ("http://app.hubspot.com/x", ReturnUrlError::NotHttps),
            ("javascript:alert(1)", ReturnUrlError::NotHttps),
            ("https:app.hubspot.com", ReturnUrlError::NotHttps),
            (
                "https:/\\app.hubspot.com",
                ReturnUrlError::ForbiddenCharacters,
            ),
            (
                "https://app.hubspot.com\\@evil.com",
                ReturnUrlError::ForbiddenCharacters,
            ),
            (
                "https://app.hub\tspot.com/",
                ReturnUrlError::ForbiddenCharacters,
            ),
            (
                "https://app.hubspot.com\u{3002}evil.com/",
                ReturnUrlError::ForbiddenCharacters,
            ),
            ("https://user@app.hubspot.com/", ReturnUrlError::UserInfo),
            (
                "https://app.hubspot.com@evil.com/",
                ReturnUrlError::UserInfo,
            ),
            ("https://app.hubspot.com:443/", ReturnUrlError::Port),
            ("https://app.hubspot.com:8443/", ReturnUrlError::Port),
            (
                "https://app.hubspot.com.evil.com/",
                ReturnUrlError::HostNotAllowed,
            ),
            (
                "https://evilapp.hubspot.com/",
                ReturnUrlError::HostNotAllowed,
            ),
            ("https://app.hubspot.com./", ReturnUrlError::HostNotAllowed),
            ("https://app%2ehubspot.com/", ReturnUrlError::Malformed),
            ("https://127.0.0.1/", ReturnUrlError::NotADomain),
            ("https://[::1]/", ReturnUrlError::Port),
            ("https:///app.hubspot.com", ReturnUrlError::Malformed),
        ];
        for (raw, expected) in cases {
            assert_eq!(
                ReturnUrl::parse(raw, &hubspot()).err(),
                Some(*expected),
                "{raw:?}"
            );
        }
        let long = format!("https://app.hubspot.com/{}", "a".repeat(ReturnUrl::MAX_LEN));
        assert_eq!(
            ReturnUrl::parse(&long, &hubspot()).err(),
            Some(ReturnUrlError::TooLong)
        );
    }

    #[test]
    fn loopback_return_urls_are_accepted_only_when_asked_for() {
        let local = "http://127.0.0.1:4001/marketplace/done?flow=1";
        assert_eq!(
            ReturnUrl::parse(local, &hubspot()).err(),
            Some(ReturnUrlError::NotHttps)
        );
        let url = ReturnUrl::parse_allowing_loopback(local, &hubspot()).unwrap();
        assert_eq!(url.origin(), "http://127.0.0.1:4001");
        assert!(ReturnUrl::parse_allowing_loopback("http://localhost:4001/x", &hubspot()).is_ok());
        for bad in [
            "http://127.0.0.1.evil.example:4001/",
            "http://localhost:4001@evil.example/",
            "http://127.0.0.1:4001\\@evil.example/",
            "http://evil.example/",
        ] {
            assert!(
                ReturnUrl::parse_allowing_loopback(bad, &hubspot()).is_err(),
                "{bad}"
            );
        }
        // Everything else still follows the ordinary rules.
        assert!(
            ReturnUrl::parse_allowing_loopback("https://app.hubspot.com/x", &hubspot()).is_ok()
        );
        assert!(ReturnUrl::parse_allowing_loopback("https://evil.example/", &hubspot()).is_err());
    }

    #[test]
    fn allowed_hosts_must_be_plain_dns_names() {
        for bad in [
            "https://app.hubspot.com",
            "app.hubspot.com:443",
            "",
            "a..b",
            "10.0.0.1",
            "-a.com",
        ] {
            assert!(AllowedHosts::new([bad]).is_err(), "{bad:?}");
        }
        assert!(
            AllowedHosts::new(["App.HubSpot.com"])
                .unwrap()
                .contains("app.hubspot.com")
        );
    }

    #[test]
    fn a_hublet_placeholder_matches_one_data_centre_label_by_label() {
        let hosts = AllowedHosts::new(["app.hubspot.com", "app-<hublet>.hubspot.com"]).unwrap();
        for good in [
            "app.hubspot.com",
            "app-eu1.hubspot.com",
            "app-na2.hubspot.com",
            "app-ap1.hubspot.com",
            "app-na10.hubspot.com",
        ] {
            assert!(hosts.contains(good), "{good}");
        }
        for bad in [
            "app-.hubspot.com",
            "app-eu.hubspot.com",
            "app-1.hubspot.com",
            "app-1eu.hubspot.com",
            "app-eu1x.hubspot.com",
            "app-EU1.hubspot.com",
            "app-eu-1.hubspot.com",
            "app-eu1.hubspot.com.evil.example",
            "evil.app-eu1.hubspot.com",
            "app-eu1.hubspot.co",
            "app-eu1hubspot.com",
            "xapp-eu1.hubspot.com",
        ] {
            assert!(!hosts.contains(bad), "{bad}");
        }
        assert_eq!(hosts.exact().collect::<Vec<_>>(), ["app.hubspot.com"]);
        assert!(hosts.by_pattern_only("app-na2.hubspot.com"));
        assert!(hosts.has_patterns());
        assert!(
            !AllowedHosts::new(["app.hubspot.com"])
                .unwrap()
                .has_patterns()
        );
        assert!(!hosts.by_pattern_only("app.hubspot.com"));
    }

    #[test]
    fn a_placeholder_needs_two_fixed_labels_after_it() {
        for bad in [
            "<hublet>.com",
            "app-<hublet>.com",
            "<hublet>-<hublet>.a.com",
            "<hub>.a.com",
        ] {
            assert!(AllowedHosts::new([bad]).is_err(), "{bad:?}");
        }
        assert!(AllowedHosts::new(["<hublet>.example.com"]).is_ok());
    }

    #[test]
    fn debug_shows_only_the_origin() {
        let url = ReturnUrl::parse("https://app.hubspot.com/x?secret=1", &hubspot()).unwrap();
        assert_eq!(format!("{url:?}"), "ReturnUrl(https://app.hubspot.com/…)");
    }
}
