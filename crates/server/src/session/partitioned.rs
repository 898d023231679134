//! The `Partitioned` cookie attribute (CHIPS), which actix-session cannot set yet: browsers that
//! block third-party cookies keep a partitioned cookie for the embedding site, so a session
//! works inside a marketplace's iframe. The gateway's common middleware adds it to the session
//! cookie, and to nothing else.

use actix_web::http::header::{HeaderMap, HeaderValue, SET_COOKIE};

use super::COOKIE_NAME;

/// `value` with `; Partitioned` appended when it sets the session cookie without it.
pub fn partition(value: &str) -> Option<String> {
    let is_session = value
        .split_once('=')
        .is_some_and(|(name, _)| name.trim() == COOKIE_NAME);
    let already = value
        .split(';')
        .any(|attribute| attribute.trim().eq_ignore_ascii_case("partitioned"));
    (is_session && !already).then(|| format!("{value}; Partitioned"))
}

/// Adds `Partitioned` to the session cookie among a response's `Set-Cookie` headers.
pub fn partition_session_cookie(headers: &mut HeaderMap) {
    if !headers.contains_key(SET_COOKIE) {
        return;
    }
    let cookies: Vec<HeaderValue> = headers.get_all(SET_COOKIE).cloned().collect();
    headers.remove(SET_COOKIE);
    for cookie in cookies {
        let rewritten = cookie
            .to_str()
            .ok()
            .and_then(partition)
            .and_then(|value| HeaderValue::from_str(&value).ok());
        headers.append(SET_COOKIE, rewritten.unwrap_or(cookie));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_session_cookie_is_partitioned_once() {
        let session = format!("{COOKIE_NAME}=abc; Path=/; Secure; HttpOnly; SameSite=None");
        assert_eq!(partition(&session), Some(format!("{session}; Partitioned")));
        assert_eq!(partition(&format!("{session}; Partitioned")), None);
        assert_eq!(partition("other=1; Secure"), None);
        assert_eq!(partition(&format!("x{COOKIE_NAME}=1")), None);
    }
}
