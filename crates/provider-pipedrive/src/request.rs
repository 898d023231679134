//! Reading Pipedrive's OAuth callback: `code` (and `state` when the gateway started the
//! install), or `error`; never both.

use installgate_core::{AuthorizationCode, InstallRequest, MalformedRequest, QueryParams};

pub fn parse(params: &QueryParams) -> Result<InstallRequest, MalformedRequest> {
    if let Some(error) = params.get("error") {
        if params.contains("code") {
            return Err(MalformedRequest(
                "a callback cannot carry both code and error".into(),
            ));
        }
        return Ok(InstallRequest::Denied {
            // Pipedrive's consent dialog's "Cancel"; `access_denied` is RFC 6749's word.
            cancelled: error == "user_denied" || error == "access_denied",
            error: error.to_owned(),
            description: params.get("error_description").map(str::to_owned),
            state: params.get("state").map(str::to_owned),
            return_url: None,
        });
    }
    let raw = params
        .get("code")
        .ok_or_else(|| MalformedRequest("the code parameter is missing".into()))?;
    let code =
        AuthorizationCode::parse(raw).map_err(|error| MalformedRequest(error.to_string()))?;
    Ok(InstallRequest::Code {
        code,
        state: params.get("state").map(str::to_owned),
        return_url: None,
        tenant: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_query(query: &str) -> Result<InstallRequest, MalformedRequest> {
        parse(&QueryParams::parse(query).unwrap())
    }

    #[test]
    fn reads_codes_states_and_denials() {
        assert!(matches!(
            parse_query("code=abc"),
            Ok(InstallRequest::Code { state: None, .. })
        ));
        assert!(matches!(
            parse_query("code=abc&state=s"),
            Ok(InstallRequest::Code { state: Some(_), .. })
        ));
        assert!(matches!(
            parse_query("error=user_denied"),
            Ok(InstallRequest::Denied { .. })
        ));
        for bad in [
            "",
            "state=s",
            "code=",
            "code=a&error=user_denied",
            "code=a b",
        ] {
            assert!(parse_query(bad).is_err(), "{bad:?}");
        }
    }
}
