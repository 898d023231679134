//! The OpenAPI 3.1 document of `/api/v1`, generated from the handlers' annotations and served at
//! `/api/v1/openapi.json`.

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{connections, disconnect, tokens};
use crate::errors::{ErrorBody, ErrorDetail};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Installgate vendor API",
        description = "Connections made by marketplace installs, and fresh access tokens for them. \
            Authenticate with `Authorization: Bearer <API key>`. Errors are \
            `{\"error\": {\"code\", \"message\"}}`.",
    ),
    paths(
        connections::list,
        connections::get,
        tokens::access_token,
        disconnect::disconnect,
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&ApiKeyScheme),
    tags((name = "connections", description = "Installs and their tokens")),
)]
#[derive(Debug)]
pub struct ApiDoc;

#[derive(Debug)]
struct ApiKeyScheme;

impl Modify for ApiKeyScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key from the configuration (`installgate api-key new`)",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document, public like any API reference.
pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_and_lists_every_route() {
        let document = serde_json::to_value(ApiDoc::openapi()).unwrap();
        assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
        let paths = document["paths"].as_object().unwrap();
        let mut listed: Vec<String> = paths
            .iter()
            .flat_map(|(path, item)| {
                item.as_object()
                    .unwrap()
                    .keys()
                    .map(move |method| format!("{method} {path}"))
            })
            .collect();
        listed.sort();
        assert_eq!(
            listed,
            [
                "delete /api/v1/connections/{id}",
                "get /api/v1/connections",
                "get /api/v1/connections/{id}",
                "post /api/v1/connections/{id}/access-token",
            ]
        );
    }
}
