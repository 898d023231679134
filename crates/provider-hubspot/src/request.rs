//! Reading HubSpot's install requests.

use installgate_core::{AuthorizationCode, InstallRequest, MalformedRequest, QueryParams};

fn malformed(message: &str) -> MalformedRequest {
    MalformedRequest(message.to_owned())
}

fn code(params: &QueryParams) -> Result<AuthorizationCode, MalformedRequest> {
    let raw = params
        .get("code")
        .ok_or_else(|| malformed("the code parameter is missing"))?;
    AuthorizationCode::parse(raw).map_err(|error| MalformedRequest(error.to_string()))
}

pub fn parse(params: &QueryParams) -> Result<InstallRequest, MalformedRequest> {
    let return_url = params.get("returnUrl").map(str::to_owned);
    if let Some(error) = params.get("error") {
        if params.contains("code") {
            return Err(malformed("a request cannot carry both code and error"));
        }
        return Ok(InstallRequest::Denied {
            // RFC 6749 section 4.1.2.1: the resource owner denied the request (`user_denied`,
            // Pipedrive's word for it, is read the same way).
            cancelled: error == "access_denied" || error == "user_denied",
            error: error.to_owned(),
            description: params.get("error_description").map(str::to_owned),
            state: params.get("state").map(str::to_owned),
            return_url,
        });
    }
    match params.get("step") {
        Some("authorize") => {
            let return_url =
                return_url.ok_or_else(|| malformed("the returnUrl parameter is missing"))?;
            if params.contains("code") {
                return Err(malformed("step=authorize carries no code"));
            }
            Ok(InstallRequest::Authorize { return_url })
        }
        Some("finalize") => {
            let return_url =
                return_url.ok_or_else(|| malformed("the returnUrl parameter is missing"))?;
            Ok(InstallRequest::Code {
                code: code(params)?,
                state: params.get("state").map(str::to_owned),
                return_url: Some(return_url),
                tenant: None,
            })
        }
        Some(_) => Err(malformed(
            "the step parameter must be authorize or finalize",
        )),
        // The classic OAuth callback of an install the gateway started: the state is required.
        None => {
            if return_url.is_some() {
                return Err(malformed("a returnUrl needs a step"));
            }
            let state = params
                .get("state")
                .ok_or_else(|| malformed("the state parameter is missing"))?;
            Ok(InstallRequest::Code {
                code: code(params)?,
                state: Some(state.to_owned()),
                return_url: None,
                tenant: None,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_query(query: &str) -> Result<InstallRequest, MalformedRequest> {
        parse(&QueryParams::parse(query).unwrap())
    }

    #[test]
    fn reads_each_kind_of_request() {
        assert!(matches!(
            parse_query("step=authorize&returnUrl=https://app.hubspot.com/x"),
            Ok(InstallRequest::Authorize { .. })
        ));
        assert!(matches!(
            parse_query("step=finalize&code=c&state=s&returnUrl=r"),
            Ok(InstallRequest::Code {
                state: Some(_),
                return_url: Some(_),
                ..
            })
        ));
        assert!(matches!(
            parse_query("step=finalize&code=c&returnUrl=r"),
            Ok(InstallRequest::Code { state: None, .. })
        ));
        assert!(matches!(
            parse_query("code=c&state=s"),
            Ok(InstallRequest::Code {
                return_url: None,
                ..
            })
        ));
        assert!(matches!(
            parse_query("error=access_denied&error_description=no"),
            Ok(InstallRequest::Denied { .. })
        ));
    }

    #[test]
    fn refuses_what_the_protocol_does_not_allow() {
        for query in [
            "step=authorize",
            "step=finalize&code=c",
            "step=finalize&returnUrl=r",
            "step=install&returnUrl=r",
            "code=c&error=x",
            "code=c",
            "state=s",
            "",
            "step=authorize&returnUrl=r&code=c",
            "code=c%20d&state=s",
        ] {
            assert!(parse_query(query).is_err(), "{query:?}");
        }
    }
}
