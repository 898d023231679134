//! `GET /admin/audit`: the newest entries of the audit log (what operators did, and every
//! refused sign-in), as `installgate admin audit` prints them.

use actix_web::{HttpResponse, web};
use maud::html;

use super::auth::{ConsoleSession, SignedOperator};
use super::console::Console;
use super::layout::{page, when};
use crate::errors::PageError;

const SHOWN: i64 = 200;

pub async fn list(
    console: web::Data<Console>,
    session: ConsoleSession,
    signed: SignedOperator,
) -> Result<HttpResponse, PageError> {
    let entries = console.audit.list(SHOWN).await?;
    let csrf = session.csrf_token()?;
    let content = html! {
        @if entries.is_empty() { p { "Nothing yet." } } @else {
            table {
                thead { tr {
                    th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "Action" }
                    th scope="col" { "On" } th scope="col" { "Outcome" } th scope="col" { "From" }
                } }
                tbody {
                    @for entry in &entries {
                        tr {
                            td { (when(entry.at)) } td { (entry.actor) } td { (entry.action) }
                            td { code { (entry.target) } } td { (entry.outcome) } td { (entry.client) }
                        }
                    }
                }
            }
        }
    };
    Ok(page(
        &signed.operator,
        &csrf,
        "Audit log",
        "/admin/audit",
        content,
    ))
}
