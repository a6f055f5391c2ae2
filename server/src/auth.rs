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
use layers::accounts::{Account, Role};
use layers::catalog::Snapshot;
use layers::{LayerIndex, LayerMeta, Visibility};

use crate::error::ApiError;

/// The caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// Nobody logged in: the public.
    Anonymous,
    /// A logged-in user (session cookie or API token).
    User(Arc<Account>),
}

impl Principal {
    /// Whether nobody is logged in; only then may shared caches keep responses.
    pub fn is_anonymous(&self) -> bool {
        matches!(self, Principal::Anonymous)
    }

    /// A short label for cache keys and ETags: responses differ only
    /// between callers with different labels.
    pub fn cache_class(&self) -> String {
        match self {
            Principal::Anonymous => "public".to_owned(),
            Principal::User(a) => match (a.role, &a.agency) {
                (Role::OpdStaff, Some(agency)) => format!("opd:{agency}"),
                (role, _) => role.as_str().to_owned(),
            },
        }
    }

    /// The logged-in account, if any.
    pub fn account(&self) -> Option<&Account> {
        match self {
            Principal::Anonymous => None,
            Principal::User(a) => Some(a),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = Infallible;

    async fn from_request_parts(_parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Principal::Anonymous)
    }
}

/// Whether `who` may see the published layer `meta` describes. With
/// [`can_see_drafts`] and [`can_write`], the only place this is decided.
pub fn can_see(who: &Principal, meta: &LayerMeta) -> bool {
    match who {
        Principal::Anonymous => meta.visibility == Visibility::Public,
        Principal::User(a) => match a.role {
            Role::Admin | Role::Leader => true,
            Role::OpdStaff => {
                meta.visibility == Visibility::Public
                    || owns(a, meta.agency.as_ref().map(|g| &*g.id))
            }
        },
    }
}

/// Whether `who` may see unpublished (draft and rejected) versions of a
/// layer owned by `agency`: its own staff and admins.
pub fn can_see_drafts(who: &Principal, agency: Option<&str>) -> bool {
    can_write(who, agency)
}

/// Whether `who` may upload, publish, roll back or delete a layer owned by
/// `agency` (or create one for it; `None`: a layer of no agency, admins only). Writes check this again inside the
/// transaction that changes the layer, against the owner stored there.
pub fn can_write(who: &Principal, agency: Option<&str>) -> bool {
    match who {
        Principal::Anonymous => false,
        Principal::User(a) => match a.role {
            Role::Admin => true,
            Role::Leader => false,
            Role::OpdStaff => owns(a, agency),
        },
    }
}

/// Whether `a` is staff of `agency` (a layer without an agency is nobody's).
fn owns(a: &Account, agency: Option<&str>) -> bool {
    a.agency.is_some() && a.agency.as_deref() == agency
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
