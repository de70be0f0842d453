//! `/dev/sign-in` — for demonstrations on one's own machine only: lists the
//! people of the stored org tree and mints a staff token for any of them
//! with the demo issuers' keys, as `jiandu demo-tokens` does, so the board
//! can be tried without copying tokens by hand. It exists only when `jiandu
//! up --dev-sign-in DIR` asks for it (`cargo xtask up` does); it is no part
//! of the API, no component can reach the keys, and real Spin has no such
//! route. Anyone who reaches it can act as anyone: never on a shared address.

use http::{Method, StatusCode};
use jiandu_guest::auth::DEFAULT_MAX_LIFETIME_SECS;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::issuers::DemoIssuers;

/// Where the host serves it.
pub const PATH: &str = "/dev/sign-in";

/// The demo issuers and the database whose org tree names the people.
pub struct DevSignIn {
    issuers: DemoIssuers,
    database_url: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    person: String,
}

impl DevSignIn {
    /// Signs in with the keys under `issuers`, for the people of the tree
    /// stored at `database_url`.
    pub fn new(issuers: DemoIssuers, database_url: String) -> Self {
        Self {
            issuers,
            database_url,
        }
    }

    /// `GET`: the people, by org. `POST {"person": id}`: a token for that
    /// person, valid 12 hours, for the org and roles the tree gives them.
    pub async fn answer(&self, method: &Method, body: &[u8], now: i64) -> (StatusCode, Value) {
        let tree = match crate::migrate::stored_tree(&self.database_url).await {
            Ok(tree) => tree,
            Err(e) => return problem(StatusCode::SERVICE_UNAVAILABLE, "", &format!("{e:#}")),
        };
        match *method {
            Method::GET => {
                let people: Vec<Value> = tree
                    .iter()
                    .flat_map(|org| {
                        org.people.iter().map(move |p| {
                            json!({ "id": p.id, "name": p.name, "org": org.id,
                                    "org_name": org.name, "roles": p.roles })
                        })
                    })
                    .collect();
                (StatusCode::OK, json!({ "people": people }))
            }
            Method::POST => {
                let request: SignIn = match serde_json::from_slice(body) {
                    Ok(request) => request,
                    Err(e) => {
                        return problem(
                            StatusCode::BAD_REQUEST,
                            "/person",
                            &format!("send {{\"person\": \"<id>\"}}: {e}"),
                        );
                    }
                };
                let found = tree.iter().find_map(|org| {
                    org.people
                        .iter()
                        .find(|p| p.id == request.person)
                        .map(|p| (org, p))
                });
                let Some((org, person)) = found else {
                    return problem(
                        StatusCode::BAD_REQUEST,
                        "/person",
                        "no person of the org tree has this id",
                    );
                };
                let signer = match self.issuers.signer_for(&tree, &org.id) {
                    Ok(signer) => signer,
                    Err(e) => {
                        return problem(StatusCode::INTERNAL_SERVER_ERROR, "", &format!("{e:#}"));
                    }
                };
                let token = signer.token(
                    &person.id,
                    &org.id,
                    &person.roles,
                    now,
                    DEFAULT_MAX_LIFETIME_SECS,
                );
                tracing::info!(person = %person.id, org = %org.id, "dev sign-in minted a token");
                (
                    StatusCode::OK,
                    json!({ "token": token, "person": person.id, "name": person.name,
                            "org": org.id, "roles": person.roles,
                            "expires_in": DEFAULT_MAX_LIFETIME_SECS }),
                )
            }
            _ => problem(
                StatusCode::METHOD_NOT_ALLOWED,
                "",
                "use GET to list the people, POST to sign in as one",
            ),
        }
    }
}

fn problem(status: StatusCode, pointer: &str, message: &str) -> (StatusCode, Value) {
    (
        status,
        json!({ "errors": [{ "pointer": pointer, "message": message }] }),
    )
}
