//! The `api_domain` of a token response decides where the user's token is sent next, so it is
//! checked before any request goes there: an `https` host under `pipedrive.com`, or exactly the
//! API base URL an app configures (the sandbox's simulator).

use installgate_core::{AppCredentials, ProviderError};
use url::{Host, Url};

fn refuse(reason: &str) -> ProviderError {
    ProviderError::Unacceptable(format!("api_domain {reason}"))
}

pub fn check(raw: &str, app: &AppCredentials) -> Result<Url, ProviderError> {
    let url = Url::parse(raw).map_err(|_| refuse("is not a URL"))?;
    if !url.username().is_empty() || url.password().is_some() || url.query().is_some() {
        return Err(refuse("carries more than a scheme and host"));
    }
    if !matches!(url.path(), "" | "/") {
        return Err(refuse("carries a path"));
    }
    if let Some(configured) = &app.api_base_url {
        return if url.origin() == configured.origin() {
            Ok(url)
        } else {
            Err(refuse("is not the configured API base URL"))
        };
    }
    let company_host = match url.host() {
        Some(Host::Domain(host)) => host.strip_suffix(".pipedrive.com").is_some_and(|label| {
            !label.is_empty()
                && !label.contains('.')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        }),
        _ => false,
    };
    if url.scheme() != "https" || url.port().is_some() || !company_host {
        return Err(refuse("is not an https host under pipedrive.com"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(api_base: Option<&str>) -> AppCredentials {
        AppCredentials {
            app: installgate_core::AppId::parse("crm").unwrap(),
            client_id: "id".into(),
            client_secret: "secret".into(),
            redirect_uri: Url::parse("https://gw.example/install/pipedrive/crm").unwrap(),
            scopes: vec![],
            optional_scopes: vec![],
            authorize_url: None,
            token_url: None,
            api_base_url: api_base.map(|url| Url::parse(url).unwrap()),
            return_hosts: None,
            options: Default::default(),
            tenant: None,
        }
    }

    #[test]
    fn accepts_only_company_hosts_of_pipedrive() {
        assert!(check("https://acme.pipedrive.com", &app(None)).is_ok());
        assert!(check("https://acme-2.pipedrive.com/", &app(None)).is_ok());
        for bad in [
            "http://acme.pipedrive.com",
            "https://pipedrive.com",
            "https://acme.pipedrive.com.evil.example",
            "https://evilpipedrive.com",
            "https://a.b.pipedrive.com",
            "https://acme.pipedrive.com:8443",
            "https://user@acme.pipedrive.com",
            "https://acme.pipedrive.com/api",
            "https://127.0.0.1",
            "not a url",
        ] {
            assert!(check(bad, &app(None)).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_configured_api_base_is_the_only_other_host() {
        let sandbox = app(Some("http://127.0.0.1:4002"));
        assert!(check("http://127.0.0.1:4002", &sandbox).is_ok());
        assert!(check("http://127.0.0.1:4003", &sandbox).is_err());
        assert!(check("https://acme.pipedrive.com", &sandbox).is_err());
    }
}
