//! Operators: the people who run the gateway, apart from the vendor's accounts. A password
//! operator's second factor is a TOTP secret, sealed with the vault's active key and bound to
//! the operator's id; its recovery codes are stored as their SHA-256 (they are random, so a
//! plain digest is enough) and deleted once used.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use installgate_core::{Clock, Email, VaultError};

use crate::database::{in_transaction, on_pool, sql_error};
use crate::{Database, Keyring};

/// What an operator may do in the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorRole {
    /// Sees every page, changes nothing.
    Viewer,
    /// May also act: refresh, disconnect, retry.
    Operator,
}

impl OperatorRole {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "viewer" => Some(Self::Viewer),
            "operator" => Some(Self::Operator),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Operator => "operator",
        }
    }

    pub fn may_act(self) -> bool {
        self == Self::Operator
    }
}

/// An operator as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub id: String,
    pub email: String,
    pub role: OperatorRole,
    /// Whether a TOTP second factor is enrolled.
    pub totp_enrolled: bool,
    /// Whether the operator signs in with a password (else through the identity provider).
    pub password: bool,
}

/// What re-sealing the operators' TOTP secrets under the active key did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretRotation {
    pub rotated: u64,
    /// Operators whose secret is under a key that is not configured, by key id; left as they are.
    pub unknown_keys: std::collections::BTreeMap<String, u64>,
    /// Operators whose secret did not open with its key; left as they are.
    pub undecryptable: Vec<String>,
}

/// What a password sign-in needs to know of an operator.
#[derive(Debug, Clone)]
pub struct SignInRecord {
    pub operator: Operator,
    /// `None` for an operator who signs in only through OpenID Connect.
    pub password_hash: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error("an operator with this email exists already")]
    EmailTaken,
    #[error("no vault key is configured to seal the second factor")]
    NoActiveKey,
    #[error("the stored second factor cannot be opened")]
    Undecryptable,
    #[error("this email belongs to an operator who signs in with a password")]
    PasswordOperator,
    #[error(transparent)]
    Database(#[from] VaultError),
}

/// The TOTP secret's kind, in its sealed form's associated data.
const TOTP_SECRET: &str = "operator-totp";
/// A TOTP secret being enrolled, kept in the enrolling browser's session.
const PENDING_TOTP_SECRET: &str = "operator-totp-pending";

#[derive(Clone)]
pub struct Operators {
    database: Database,
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Operators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operators").finish_non_exhaustive()
    }
}

type OperatorRow = (String, String, String, Option<i64>, bool);
/// An operator's row with its password hash.
type SignInRow = (String, String, String, Option<i64>, Option<String>);

fn operator_of(
    (id, email, role, enrolled_at, password): OperatorRow,
) -> Result<Operator, OperatorError> {
    let role = OperatorRole::parse(&role).ok_or_else(|| {
        OperatorError::Database(VaultError::Unavailable(format!(
            "operator {id} has an unknown role"
        )))
    })?;
    Ok(Operator {
        id,
        email,
        role,
        totp_enrolled: enrolled_at.is_some(),
        password,
    })
}

impl Operators {
    pub fn new(database: Database, keyring: Arc<Keyring>, clock: Arc<dyn Clock>) -> Self {
        Self {
            database,
            keyring,
            clock,
        }
    }

    /// Adds an operator; `password_hash` is `None` for one who signs in through OpenID Connect.
    pub async fn create(
        &self,
        email: &Email,
        role: OperatorRole,
        password_hash: Option<&str>,
    ) -> Result<Operator, OperatorError> {
        let id = format!("op_{}", uuid::Uuid::now_v7().simple());
        let now = self.clock.now().as_millis();
        let inserted = on_pool!(&self.database, pool => {
            sqlx::query(
                "INSERT INTO operators (id, email, role, password_hash, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT DO NOTHING",
            )
            .bind(&id)
            .bind(email.as_str())
            .bind(role.as_str())
            .bind(password_hash)
            .bind(now)
            .execute(pool)
            .await
            .map_err(sql_error)?
            .rows_affected()
        });
        if inserted == 0 {
            return Err(OperatorError::EmailTaken);
        }
        Ok(Operator {
            id,
            email: email.as_str().to_owned(),
            role,
            totp_enrolled: false,
            password: password_hash.is_some(),
        })
    }

    /// The operator of an email the company's identity provider vouched for, made on first
    /// sign-in; its role is the one the provider's groups give now. `PasswordOperator` when the
    /// email is a password operator's: the provider does not stand in for their password and
    /// second factor.
    pub async fn from_identity_provider(
        &self,
        email: &Email,
        role: OperatorRole,
    ) -> Result<Operator, OperatorError> {
        let id = format!("op_{}", uuid::Uuid::now_v7().simple());
        let now = self.clock.now().as_millis();
        let row: Option<OperatorRow> = on_pool!(&self.database, pool => {
            sqlx::query_as(
                "INSERT INTO operators (id, email, role, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $4) \
                 ON CONFLICT (email) DO UPDATE SET role = $3, updated_at = $4 \
                 WHERE operators.password_hash IS NULL \
                 RETURNING id, email, role, totp_enrolled_at, password_hash IS NOT NULL",
            )
            .bind(&id)
            .bind(email.as_str())
            .bind(role.as_str())
            .bind(now)
            .fetch_optional(pool)
            .await
            .map_err(sql_error)?
        });
        operator_of(row.ok_or(OperatorError::PasswordOperator)?)
    }

    pub async fn get(&self, id: &str) -> Result<Option<Operator>, OperatorError> {
        let row: Option<OperatorRow> = on_pool!(&self.database, pool => {
            sqlx::query_as(
                "SELECT id, email, role, totp_enrolled_at, password_hash IS NOT NULL \
                 FROM operators WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(sql_error)?
        });
        row.map(operator_of).transpose()
    }

    pub async fn by_email(&self, email: &Email) -> Result<Option<SignInRecord>, OperatorError> {
        let row: Option<SignInRow> = on_pool!(&self.database, pool => {
            sqlx::query_as(
                "SELECT id, email, role, totp_enrolled_at, password_hash FROM operators \
                 WHERE email = $1",
            )
            .bind(email.as_str())
            .fetch_optional(pool)
            .await
            .map_err(sql_error)?
        });
        row.map(|(id, email, role, enrolled, password_hash)| {
            Ok(SignInRecord {
                operator: operator_of((id, email, role, enrolled, password_hash.is_some()))?,
                password_hash,
            })
        })
        .transpose()
    }

    /// Removes the operator with this email, its recovery codes with it (its console sessions
    /// end at their next request, which finds no operator). `false` when there was none.
    pub async fn remove(&self, email: &Email) -> Result<bool, OperatorError> {
        let removed = in_transaction!(&self.database, tx => {
            sqlx::query(
                "DELETE FROM operator_recovery_codes WHERE operator_id IN \
                 (SELECT id FROM operators WHERE email = $1)",
            )
            .bind(email.as_str())
            .execute(&mut *tx)
            .await
            .map_err(sql_error)?;
            sqlx::query("DELETE FROM operators WHERE email = $1")
                .bind(email.as_str())
                .execute(&mut *tx)
                .await
                .map_err(sql_error)?
                .rows_affected()
        });
        Ok(removed == 1)
    }

    pub async fn list(&self) -> Result<Vec<Operator>, OperatorError> {
        let rows: Vec<OperatorRow> = on_pool!(&self.database, pool => {
            sqlx::query_as(
                "SELECT id, email, role, totp_enrolled_at, password_hash IS NOT NULL \
                 FROM operators ORDER BY email",
            )
            .fetch_all(pool)
            .await
            .map_err(sql_error)?
        });
        rows.into_iter().map(operator_of).collect()
    }

    /// A TOTP secret being enrolled, sealed for the operator's console session (it is stored
    /// with the operator only once a code proves it): `{key id}.{base64}`.
    pub fn seal_pending(&self, id: &str, secret: &[u8]) -> Result<String, OperatorError> {
        let key_id = self
            .keyring
            .active_key_id()
            .ok_or(OperatorError::NoActiveKey)?;
        let sealed = self
            .keyring
            .seal_secret(PENDING_TOTP_SECRET, id, secret)
            .ok_or(OperatorError::NoActiveKey)?;
        Ok(format!("{key_id}.{}", URL_SAFE_NO_PAD.encode(sealed)))
    }

    /// Opens what [`Operators::seal_pending`] sealed for the same operator.
    pub fn open_pending(&self, id: &str, sealed: &str) -> Result<Vec<u8>, OperatorError> {
        let (key_id, text) = sealed.split_once('.').ok_or(OperatorError::Undecryptable)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| OperatorError::Undecryptable)?;
        self.keyring
            .open_secret(key_id, PENDING_TOTP_SECRET, id, &bytes)
            .map_err(|_| OperatorError::Undecryptable)
    }

    /// Re-seals every enrolled operator's TOTP secret that is under another key than the active
    /// one (`installgate vault rotate` does this with the tokens), so that the old key can go.
    pub async fn rotate_secrets(&self) -> Result<SecretRotation, OperatorError> {
        let active = self
            .keyring
            .active_key_id()
            .ok_or(OperatorError::NoActiveKey)?
            .to_owned();
        let rows: Vec<(String, String, Vec<u8>)> = on_pool!(&self.database, pool => {
            sqlx::query_as(
                "SELECT id, totp_key_id, totp_secret FROM operators \
                 WHERE totp_secret IS NOT NULL AND totp_key_id IS NOT NULL AND totp_key_id <> $1",
            )
            .bind(&active)
            .fetch_all(pool)
            .await
            .map_err(sql_error)?
        });
        let mut report = SecretRotation::default();
        for (id, key_id, sealed) in rows {
            if !self.keyring.knows(&key_id) {
                *report.unknown_keys.entry(key_id).or_default() += 1;
                continue;
            }
            let Ok(secret) = self.keyring.open_secret(&key_id, TOTP_SECRET, &id, &sealed) else {
                report.undecryptable.push(id);
                continue;
            };
            let resealed = self
                .keyring
                .seal_secret(TOTP_SECRET, &id, &secret)
                .ok_or(OperatorError::NoActiveKey)?;
            let updated = on_pool!(&self.database, pool => {
                sqlx::query(
                    "UPDATE operators SET totp_key_id = $2, totp_secret = $3 \
                     WHERE id = $1 AND totp_key_id = $4",
                )
                .bind(&id)
                .bind(&active)
                .bind(&resealed)
                .bind(&key_id)
                .execute(pool)
                .await
                .map_err(sql_error)?
                .rows_affected()
            });
            report.rotated += updated;
        }
        Ok(report)
    }

    /// The operator's TOTP secret, opened; `None` before enrolment.
    pub async fn totp_secret(&self, id: &str) -> Result<Option<Vec<u8>>, OperatorError> {
        let row: Option<(Option<String>, Option<Vec<u8>>)> = on_pool!(&self.database, pool => {
            sqlx::query_as(
                "SELECT totp_key_id, totp_secret FROM operators \
                 WHERE id = $1 AND totp_enrolled_at IS NOT NULL",
            )
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(sql_error)?
        });
        let Some((Some(key_id), Some(sealed))) = row else {
            return Ok(None);
        };
        self.keyring
            .open_secret(&key_id, TOTP_SECRET, id, &sealed)
            .map(Some)
            .map_err(|_| OperatorError::Undecryptable)
    }

    /// Stores `secret` as the operator's TOTP secret, sealed, with the time step of the code
    /// that proved it, and the recovery codes' digests. `false` when the operator was enrolled
    /// already.
    pub async fn finish_enrolment(
        &self,
        id: &str,
        secret: &[u8],
        step: i64,
        recovery_digests: &[String],
    ) -> Result<bool, OperatorError> {
        let now = self.clock.now().as_millis();
        let key_id = self
            .keyring
            .active_key_id()
            .ok_or(OperatorError::NoActiveKey)?
            .to_owned();
        let sealed = self
            .keyring
            .seal_secret(TOTP_SECRET, id, secret)
            .ok_or(OperatorError::NoActiveKey)?;
        let enrolled = in_transaction!(&self.database, tx => {
            let updated = sqlx::query(
                "UPDATE operators SET totp_key_id = $4, totp_secret = $5, totp_enrolled_at = $2, \
                 totp_last_step = $3, updated_at = $2 \
                 WHERE id = $1 AND totp_enrolled_at IS NULL",
            )
            .bind(id)
            .bind(now)
            .bind(step)
            .bind(&key_id)
            .bind(&sealed)
            .execute(&mut *tx)
            .await
            .map_err(sql_error)?
            .rows_affected();
            if updated == 1 {
                for digest in recovery_digests {
                    sqlx::query(
                        "INSERT INTO operator_recovery_codes (operator_id, code_hash) \
                         VALUES ($1, $2)",
                    )
                    .bind(id)
                    .bind(digest)
                    .execute(&mut *tx)
                    .await
                    .map_err(sql_error)?;
                }
            }
            updated == 1
        });
        Ok(enrolled)
    }

    /// Takes TOTP time step `step` for the operator: `false` when it, or a later one, was
    /// used already, so that a code seen by someone else cannot be used again.
    pub async fn take_step(&self, id: &str, step: i64) -> Result<bool, OperatorError> {
        let updated = on_pool!(&self.database, pool => {
            sqlx::query(
                "UPDATE operators SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2",
            )
            .bind(id)
            .bind(step)
            .execute(pool)
            .await
            .map_err(sql_error)?
            .rows_affected()
        });
        Ok(updated == 1)
    }

    /// Uses up the recovery code with this digest: `false` when the operator has no such code.
    pub async fn use_recovery_code(&self, id: &str, digest: &str) -> Result<bool, OperatorError> {
        let deleted = on_pool!(&self.database, pool => {
            sqlx::query(
                "DELETE FROM operator_recovery_codes WHERE operator_id = $1 AND code_hash = $2",
            )
            .bind(id)
            .bind(digest)
            .execute(pool)
            .await
            .map_err(sql_error)?
            .rows_affected()
        });
        Ok(deleted == 1)
    }

    /// How many unused recovery codes the operator has left.
    pub async fn recovery_codes_left(&self, id: &str) -> Result<i64, OperatorError> {
        let (count,): (i64,) = on_pool!(&self.database, pool => {
            sqlx::query_as(
                "SELECT COUNT(*) FROM operator_recovery_codes WHERE operator_id = $1",
            )
            .bind(id)
            .fetch_one(pool)
            .await
            .map_err(sql_error)?
        });
        Ok(count)
    }
}
