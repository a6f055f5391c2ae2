//! The client's address, for the audit log and login throttling.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use layers::model::access::Actor;

use crate::auth::Principal;
use crate::state::AppState;

/// Who sent a request, as far as the network tells.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// The peer's IP address, or the last `X-Forwarded-For` address (the
    /// one our proxy appended; earlier ones are the client's to forge) when
    /// the server is configured to trust its proxy.
    pub addr: Option<String>,
}

impl Client {
    /// The actor of a write by `who` from this client.
    pub fn actor<'a>(&'a self, who: &'a Principal) -> Actor<'a> {
        Actor {
            account: who.account(),
            client: self.addr.as_deref(),
        }
    }
}

impl FromRequestParts<AppState> for Client {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string());
        let forwarded = state
            .config
            .trust_forwarded_for
            .then(|| {
                parts
                    .headers
                    .get("x-forwarded-for")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.rsplit(',').next())
                    .map(|v| v.trim().to_owned())
                    .filter(|v| v.parse::<std::net::IpAddr>().is_ok())
            })
            .flatten();
        Ok(Client {
            addr: forwarded.or(peer),
        })
    }
}
