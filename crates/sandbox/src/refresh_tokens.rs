//! Refresh tokens as a marketplace keeps them, with optional rotation: when rotation is on, each
//! refresh returns a new refresh token and retires the old one; presenting a retired token again
//! is taken as theft and revokes the whole grant (the behaviour OAuth 2.0 Security BCP describes
//! for rotating refresh tokens).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Why a refresh token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal<G> {
    /// Never issued, revoked, or issued to another client.
    Unknown,
    /// Retired by an earlier rotation: the grant is now revoked.
    Reused(G),
}

pub struct RefreshTokens<G> {
    prefix: &'static str,
    live: Mutex<HashMap<String, G>>,
    retired: Mutex<HashMap<String, G>>,
    rotate: AtomicBool,
    redeemed: AtomicUsize,
    refused: AtomicUsize,
}

impl<G: Clone + PartialEq> RefreshTokens<G> {
    pub fn new(prefix: &'static str) -> Self {
        Self {
            prefix,
            live: Mutex::default(),
            retired: Mutex::default(),
            rotate: AtomicBool::new(false),
            redeemed: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
        }
    }

    pub fn set_rotation(&self, on: bool) {
        self.rotate.store(on, Ordering::SeqCst);
    }

    pub fn issue(&self, grant: G) -> String {
        let value = format!("{}-{}", self.prefix, uuid::Uuid::new_v4().simple());
        lock(&self.live).insert(value.clone(), grant);
        value
    }

    /// A refresh: the grant and the refresh token to hand back (the same one unless rotating).
    pub fn redeem(
        &self,
        token: &str,
        accept: impl Fn(&G) -> bool,
    ) -> Result<(G, String), Refusal<G>> {
        self.redeemed.fetch_add(1, Ordering::SeqCst);
        let mut live = lock(&self.live);
        let outcome = match live.get(token).cloned() {
            Some(grant) if accept(&grant) => {
                if self.rotate.load(Ordering::SeqCst) {
                    live.remove(token);
                    lock(&self.retired).insert(token.to_owned(), grant.clone());
                    let next = format!("{}-{}", self.prefix, uuid::Uuid::new_v4().simple());
                    live.insert(next.clone(), grant.clone());
                    Ok((grant, next))
                } else {
                    Ok((grant, token.to_owned()))
                }
            }
            Some(_) => Err(Refusal::Unknown),
            None => match lock(&self.retired).get(token).cloned() {
                Some(grant) => {
                    live.retain(|_, held| *held != grant);
                    Err(Refusal::Reused(grant))
                }
                None => Err(Refusal::Unknown),
            },
        };
        if outcome.is_err() {
            self.refused.fetch_add(1, Ordering::SeqCst);
        }
        outcome
    }

    /// Removes one refresh token; its grant if it was live.
    pub fn revoke(&self, token: &str) -> Option<G> {
        lock(&self.live).remove(token)
    }

    /// Removes every refresh token of `grant`.
    pub fn revoke_grant(&self, grant: &G) {
        lock(&self.live).retain(|_, held| held != grant);
    }

    /// Refresh requests so far (refused ones included).
    pub fn redeemed(&self) -> usize {
        self.redeemed.load(Ordering::SeqCst)
    }

    /// Refresh requests refused so far.
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_retires_tokens_and_reuse_revokes_the_grant() {
        let tokens = RefreshTokens::new("rt");
        let first = tokens.issue(7u32);
        let (_, same) = tokens.redeem(&first, |_| true).unwrap();
        assert_eq!(same, first, "without rotation the token stays");
        tokens.set_rotation(true);
        let (_, second) = tokens.redeem(&first, |_| true).unwrap();
        assert_ne!(second, first);
        assert_eq!(tokens.redeem(&first, |_| true), Err(Refusal::Reused(7)));
        assert_eq!(tokens.redeem(&second, |_| true), Err(Refusal::Unknown));
        assert_eq!((tokens.redeemed(), tokens.refused()), (4, 2));
    }
}
