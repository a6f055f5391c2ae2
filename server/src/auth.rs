//! Who is asking, and the one function that decides what they may see.
//!
//! Every route that names or lists layers goes through [`can_see`] (via
//! [`visible_layer`] and [`visible_layers`]): the layer list, features,
//! search, metrics, and later tiles, OGC and downloads. A layer the caller
//! may not see answers 404 exactly as a missing one and is never counted.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, Uri, header};
use layers::catalog::Snapshot;
use layers::model::access::{Account, Owner, Role};
use layers::model::change::{Audience, ChangeEvent};
use layers::store::accounts::SESSION_COOKIE;
use layers::{LayerIndex, LayerMeta, Visibility};

use crate::error::ApiError;
use crate::state::AppState;

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

/// Who is asking, decided once per request (and kept in the request's
/// extensions for any later extractor):
///
/// - `Authorization: Bearer bsc_...`: the API token's user; an unknown,
///   revoked or malformed bearer token (or a disabled user) is a 401, never
///   the public. Other `Authorization` schemes are ignored (a proxy may use
///   Basic for itself).
/// - cookie `bsc_session`: the session's user; an unknown or expired
///   session is [`Principal::Anonymous`]. Writes (POST, PUT, PATCH, DELETE)
///   authenticated by the cookie must come from our own pages: their
///   `Origin` (or else `Referer`) must name the request's `Host` or the
///   `--public-url` host, or the request is refused with 403. Bearer-token
///   writes need no `Origin` (browsers never send the token by themselves).
/// - neither: [`Principal::Anonymous`], without touching the database.
impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(known) = parts.extensions.get::<Principal>() {
            return Ok(known.clone());
        }
        let who = authenticate(parts, state).await?;
        parts.extensions.insert(who.clone());
        Ok(who)
    }
}

async fn authenticate(parts: &Parts, state: &AppState) -> Result<Principal, ApiError> {
    if let Some(token) = bearer_token(&parts.headers) {
        return match state.store.token_account(token).await? {
            Some(account) => Ok(Principal::User(Arc::new(account))),
            None => Err(ApiError::unauthorized(
                "the API token is not valid: unknown, revoked, or its user is disabled",
            )),
        };
    }
    let Some(session) = cookie(&parts.headers, SESSION_COOKIE) else {
        return Ok(Principal::Anonymous);
    };
    let Some(account) = state
        .store
        .session_account(session, state.config.session_ttl)
        .await?
    else {
        return Ok(Principal::Anonymous);
    };
    if is_write(&parts.method) && !same_origin(&parts.headers, &parts.uri, &state.config.public_url)
    {
        return Err(ApiError::forbidden(
            "a write with a session cookie must come from this site: its Origin (or Referer) header must name this server",
        ));
    }
    Ok(Principal::User(Arc::new(account)))
}

/// Whether `method` changes something.
fn is_write(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

/// The token of an `Authorization: Bearer TOKEN` header, if there is one.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().unwrap_or("");
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().trim_matches('"'))
}

/// The `host[:port]` of an absolute URL.
fn authority(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let auth = &rest[..end];
    let auth = auth.rsplit_once('@').map_or(auth, |(_, host)| host);
    (!auth.is_empty()).then_some(auth)
}

/// Whether the request's `Origin` (or, without one, `Referer`) is this
/// server: the `Host` it was sent to, or the host of `public_url`.
pub fn same_origin(headers: &HeaderMap, uri: &Uri, public_url: &str) -> bool {
    let source = match headers.get(header::ORIGIN) {
        Some(origin) => origin.to_str().ok(),
        None => headers.get(header::REFERER).and_then(|r| r.to_str().ok()),
    };
    let Some(from) = source.and_then(authority) else {
        return false;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()));
    host.is_some_and(|h| h.eq_ignore_ascii_case(from))
        || authority(public_url).is_some_and(|p| p.eq_ignore_ascii_case(from))
}

/// Whether `who` may see the published layer `meta` describes. With
/// [`can_see_drafts`], [`can_write`] and [`write_guard`], the only place
/// this is decided.
pub fn can_see(who: &Principal, meta: &LayerMeta) -> bool {
    sees(
        who,
        meta.visibility,
        meta.agency.as_ref().map(|g| g.id.as_str()),
    )
}

fn sees(who: &Principal, visibility: Visibility, agency: Option<&str>) -> bool {
    match who {
        Principal::Anonymous => visibility == Visibility::Public,
        Principal::User(a) => match a.role {
            Role::Admin | Role::Leader => true,
            Role::OpdStaff => visibility == Visibility::Public || owns(a, agency),
        },
    }
}

/// Whether `who` may read event `e` of the change feed: a layer's as its
/// published layer ([`can_see`]'s rule, with the visibility and agency
/// recorded when the change was made), a draft's as its drafts, a report's
/// as the report (and a report routed away as well by the agency it
/// left).
pub fn can_see_change(who: &Principal, e: &ChangeEvent) -> bool {
    let agency = e.agency.as_deref();
    match e.audience {
        Audience::Public => sees(who, Visibility::Public, agency),
        Audience::Internal => sees(who, Visibility::Internal, agency),
        Audience::Drafts => can_see_drafts(who, agency),
        Audience::Reports => [agency, e.from_agency.as_deref()]
            .into_iter()
            .flatten()
            .any(|g| can_see_report(who, g)),
    }
}

/// Whether `who` is an administrator.
pub fn is_admin(who: &Principal) -> bool {
    who.account().is_some_and(|a| a.role == Role::Admin)
}

/// Whether `who` may manage users, agencies, API tokens and backups
/// (`/api/admin/*`): admins only.
pub fn can_administer(who: &Principal) -> bool {
    is_admin(who)
}

/// Whether `who` may read the audit log: admins and leaders.
pub fn can_read_audit(who: &Principal) -> bool {
    who.account()
        .is_some_and(|a| matches!(a.role, Role::Admin | Role::Leader))
}

/// [`can_administer`] as a route's answer: 401 for the public, 403 for
/// other users.
pub fn admin_only(who: &Principal) -> Result<(), ApiError> {
    match who.account() {
        None => Err(ApiError::unauthorized(
            "Silakan masuk sebagai admin. / Log in as an administrator.",
        )),
        Some(_) if !can_administer(who) => Err(ApiError::forbidden(
            "Hanya admin yang dapat mengelola pengguna, perangkat daerah, token dan cadangan. / Only administrators may manage users, agencies, tokens and backups.",
        )),
        Some(_) => Ok(()),
    }
}

/// The write decision for the store, run inside the transaction of each
/// write against the owner stored there. A layer `who` may not see answers
/// exactly as a missing one ("not found"), as every read route does: a
/// published layer by its visibility, a layer with drafts only by its own
/// agency and admins, a deleted one by admins only. One they may see but
/// not change is "log in" for the public and "forbidden" for users.
pub fn write_guard(who: &Principal) -> impl Fn(&Owner) -> layers::Result<()> + Send + Sync + '_ {
    move |o: &Owner| {
        if !can_see_owner(who, o) {
            return Err(layers::Error::NotFound(format!(
                "Lapisan {:?} tidak ditemukan. / No layer {:?}.",
                o.layer, o.layer
            )));
        }
        if !can_write(who, o.agency.as_deref()) {
            return Err(match who.account() {
                None => layers::Error::Unauthorized(
                    "Masuk dahulu untuk mengubah lapisan. / Log in to change layers.".to_owned(),
                ),
                Some(a) => layers::Error::Forbidden(format!(
                    "{0} tidak boleh mengubah lapisan {1:?}: hanya staf OPD pemiliknya dan admin. / {0} may not change layer {1:?}: only its agency's staff and admins may.",
                    a.name, o.layer
                )),
            });
        }
        Ok(())
    }
}

/// Whether `who` may know that the layer `o` describes exists: the read
/// rule ([`can_see`] for a served layer) or the history rule
/// ([`can_see_history`]).
pub fn can_see_owner(who: &Principal, o: &Owner) -> bool {
    let served = o.published && !o.deleted && sees(who, o.visibility, o.agency.as_deref());
    served || can_see_history(who, o)
}

/// Like [`write_guard`], but only administrators pass (restoring a deleted layer).
pub fn admin_guard(who: &Principal) -> impl Fn(&Owner) -> layers::Result<()> + Send + Sync + '_ {
    move |o: &Owner| {
        if is_admin(who) {
            Ok(())
        } else {
            Err(layers::Error::NotFound(format!(
                "Lapisan {:?} tidak ditemukan. / No layer {:?}.",
                o.layer, o.layer
            )))
        }
    }
}

/// Whether `who` may see unpublished (draft and rejected) versions of a
/// layer owned by `agency`: its own staff and admins.
pub fn can_see_drafts(who: &Principal, agency: Option<&str>) -> bool {
    can_write(who, agency)
}

/// Whether `who` may see the history and unpublished versions of the layer
/// `owner` describes: its agency's staff and admins, and for a deleted
/// layer only admins.
pub fn can_see_history(who: &Principal, owner: &Owner) -> bool {
    can_see_drafts(who, owner.agency.as_deref()) && (!owner.deleted || is_admin(who))
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

/// Whether `who` may handle (change the status of, re-route) citizen
/// reports routed to `agency`: its staff and admins.
pub fn can_handle_report(who: &Principal, agency: &str) -> bool {
    can_write(who, Some(agency))
}

/// Whether `who` may read citizen reports of `agency` with the reporter's
/// name and contact: those who handle them, and leaders (who see all).
pub fn can_see_report(who: &Principal, agency: &str) -> bool {
    can_handle_report(who, agency) || who.account().is_some_and(|a| a.role == Role::Leader)
}

/// Whether `who` sees every agency's report queue (leaders and admins);
/// staff see their own agency's only.
pub fn sees_all_reports(who: &Principal) -> bool {
    who.account()
        .is_some_and(|a| matches!(a.role, Role::Leader | Role::Admin))
}

/// Whether `who` may read the leaders' report figures: leaders and admins.
pub fn can_see_report_stats(who: &Principal) -> bool {
    sees_all_reports(who)
}

/// Whether `who` may change which agency a report type is routed to.
pub fn can_route_report_types(who: &Principal) -> bool {
    is_admin(who)
}

/// The decision for a change to a report of `agency`, run by the store
/// inside the write against the stored agency: a report `who` may not see
/// answers exactly as a missing one; one they may see but not change
/// (a leader's) is forbidden.
pub fn report_guard(
    who: &Principal,
    id: i64,
) -> impl Fn(&str) -> layers::Result<()> + Send + Sync + '_ {
    move |agency: &str| {
        if !can_see_report(who, agency) {
            return Err(layers::Error::NotFound(format!(
                "Laporan {id} tidak ditemukan. / No report {id}."
            )));
        }
        if !can_handle_report(who, agency) {
            return Err(layers::Error::Forbidden(
                "Hanya perangkat daerah yang menangani dan admin yang dapat mengubah laporan. / Only the handling agency's staff and admins may change a report.".to_owned(),
            ));
        }
        Ok(())
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
        .ok_or_else(|| ApiError::no_layer(id))
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn user(role: Role, agency: Option<&str>) -> Principal {
        Principal::User(Arc::new(Account {
            id: 1,
            name: "u".to_owned(),
            role,
            agency: agency.map(str::to_owned),
        }))
    }

    /// A caller's name, who they are, and per layer kind whether they see
    /// it and what a write gets.
    type Row = (&'static str, Principal, [(bool, &'static str); 4]);

    /// What `write_guard` answers: `Ok`, or the kind of error.
    fn guard_says(who: &Principal, o: &Owner) -> &'static str {
        match write_guard(who)(o) {
            Ok(()) => "write",
            Err(layers::Error::NotFound(_)) => "404",
            Err(layers::Error::Unauthorized(_)) => "401",
            Err(layers::Error::Forbidden(_)) => "403",
            Err(e) => panic!("unexpected {e}"),
        }
    }

    /// Every caller against every kind of layer of agency `pupr`: whether
    /// they see it (reads) and what a write gets. Rows: public, internal,
    /// drafts only, deleted (public).
    #[test]
    fn every_role_against_every_visibility() {
        let layer = |visibility, published, deleted| Owner {
            layer: "l".to_owned(),
            agency: Some("pupr".to_owned()),
            visibility,
            published,
            deleted,
        };
        let layers = [
            ("public", layer(Visibility::Public, true, false)),
            ("internal", layer(Visibility::Internal, true, false)),
            ("drafts only", layer(Visibility::Public, false, false)),
            ("deleted", layer(Visibility::Public, true, true)),
        ];
        #[rustfmt::skip]
        let table: [Row; 5] = [
            //                                          public           internal         drafts only      deleted
            ("anonymous", Principal::Anonymous,        [(true, "401"),  (false, "404"), (false, "404"), (false, "404")]),
            ("leader", user(Role::Leader, None),       [(true, "403"),  (true, "403"),  (false, "404"), (false, "404")]),
            ("own staff", user(Role::OpdStaff, Some("pupr")), [(true, "write"), (true, "write"), (true, "write"), (false, "404")]),
            ("other staff", user(Role::OpdStaff, Some("dinkes")), [(true, "403"), (false, "404"), (false, "404"), (false, "404")]),
            ("admin", user(Role::Admin, None),         [(true, "write"), (true, "write"), (true, "write"), (true, "write")]),
        ];
        for (who_name, who, row) in &table {
            for ((layer_name, owner), (sees, writes)) in layers.iter().zip(row) {
                assert_eq!(
                    can_see_owner(who, owner),
                    *sees,
                    "{who_name} seeing a {layer_name} layer"
                );
                assert_eq!(
                    guard_says(who, owner),
                    *writes,
                    "{who_name} writing a {layer_name} layer"
                );
            }
        }
    }

    #[test]
    fn staff_without_an_agency_own_nothing() {
        let nobody = user(Role::OpdStaff, None);
        assert!(!can_write(&nobody, None));
        assert!(!can_write(&nobody, Some("pupr")));
        assert!(can_write(&user(Role::Admin, None), None));
    }

    /// Every caller against a report of `dinas-pupr`: what a change gets,
    /// and who sees queues, contacts and the figures.
    #[test]
    fn every_role_against_a_report() {
        let says = |who: &Principal| match report_guard(who, 7)("dinas-pupr") {
            Ok(()) => "change",
            Err(layers::Error::NotFound(_)) => "404",
            Err(layers::Error::Forbidden(_)) => "403",
            Err(e) => panic!("unexpected {e}"),
        };
        let rows = [
            (Principal::Anonymous, "404", false, false),
            (
                user(Role::OpdStaff, Some("dinas-pupr")),
                "change",
                false,
                false,
            ),
            (user(Role::OpdStaff, Some("bpbd")), "404", false, false),
            (user(Role::Leader, None), "403", true, true),
            (user(Role::Admin, None), "change", true, true),
        ];
        for (who, change, all, stats) in rows {
            assert_eq!(says(&who), change, "{who:?}");
            assert_eq!(sees_all_reports(&who), all, "{who:?}");
            assert_eq!(can_see_report_stats(&who), stats, "{who:?}");
            assert_eq!(
                can_see_report(&who, "dinas-pupr"),
                change != "404",
                "{who:?}"
            );
        }
        for (who, admin, audit) in [
            (Principal::Anonymous, false, false),
            (user(Role::OpdStaff, Some("dinas-pupr")), false, false),
            (user(Role::Leader, None), false, true),
            (user(Role::Admin, None), true, true),
        ] {
            assert_eq!(can_administer(&who), admin, "{who:?}");
            assert_eq!(can_read_audit(&who), audit, "{who:?}");
            assert_eq!(admin_only(&who).is_ok(), admin, "{who:?}");
        }
        assert_eq!(
            admin_only(&Principal::Anonymous).unwrap_err().status,
            axum::http::StatusCode::UNAUTHORIZED
        );
        assert!(can_route_report_types(&user(Role::Admin, None)));
        assert!(!can_route_report_types(&user(Role::Leader, None)));
        assert!(!can_route_report_types(&user(
            Role::OpdStaff,
            Some("dinas-pupr")
        )));
    }
}
