//! Who is asking, and the one function that decides what they may see.
//!
//! Every route that names or lists layers goes through [`can_see`] (via
//! [`visible_layer`] and [`visible_layers`]): the layer list, features,
//! search, metrics, and later tiles, OGC and downloads. A layer the caller
//! may not see answers 404 exactly as a missing one and is never counted.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use layers::catalog::Snapshot;
use layers::{LayerIndex, LayerMeta, Visibility};

use crate::error::ApiError;

/// The caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Principal {
    /// Nobody logged in: the public.
    Anonymous,
}

impl Principal {
    /// Whether nobody is logged in; only then may shared caches keep responses.
    pub fn is_anonymous(&self) -> bool {
        matches!(self, Principal::Anonymous)
    }

    /// A short label for cache keys and ETags: responses differ only
    /// between callers with different labels.
    pub fn cache_class(&self) -> &'static str {
        match self {
            Principal::Anonymous => "public",
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = Infallible;

    async fn from_request_parts(_parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Principal::Anonymous)
    }
}

/// Whether `who` may see the layer `meta` describes. The only place this is decided.
pub fn can_see(who: &Principal, meta: &LayerMeta) -> bool {
    match who {
        Principal::Anonymous => meta.visibility == Visibility::Public,
    }
}

/// The layer `id` if it is served and `who` may see it; 404 otherwise.
pub fn visible_layer(
    snapshot: &Snapshot,
    who: &Principal,
    id: &str,
) -> Result<Arc<LayerIndex>, ApiError> {
    snapshot
        .get(id)
        .filter(|l| can_see(who, &l.meta))
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("no layer {id:?}")))
}

/// The layers `who` may see, in display order.
pub fn visible_layers<'a>(
    snapshot: &'a Snapshot,
    who: &'a Principal,
) -> impl Iterator<Item = &'a Arc<LayerIndex>> + 'a {
    snapshot
        .layers
        .iter()
        .filter(move |l| can_see(who, &l.meta))
}
