//! The change feed's events, without SQL: what happened, to which layer or
//! report, and who may be told. The store writes them inside the
//! transaction of each change ([`crate::store::changes`]); the server
//! streams them as Server-Sent Events to callers its authorization allows.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::error::Error;

/// What a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A version was published: it is what the layer serves now.
    Publish,
    /// An older published version was made current again.
    Rollback,
    /// The layer serves no version any more (the citizens' reports layer
    /// with no public report left).
    Withdraw,
    /// The layer was deleted (hidden; it can be restored).
    Delete,
    /// A deleted layer was restored.
    Restore,
    /// The name field of a version changed, and with it the features'
    /// names.
    NameField,
    /// A photo of a feature was added or removed.
    Photos,
    /// A draft version was uploaded or made (nothing served changed).
    Draft,
    /// A citizen sent a report.
    ReportNew,
    /// A report moved to another status.
    ReportStatus,
    /// A report was routed to another agency.
    ReportRoute,
}

impl ChangeKind {
    /// Every kind, in the order of the variants.
    pub const ALL: [ChangeKind; 11] = [
        ChangeKind::Publish,
        ChangeKind::Rollback,
        ChangeKind::Withdraw,
        ChangeKind::Delete,
        ChangeKind::Restore,
        ChangeKind::NameField,
        ChangeKind::Photos,
        ChangeKind::Draft,
        ChangeKind::ReportNew,
        ChangeKind::ReportStatus,
        ChangeKind::ReportRoute,
    ];

    /// The stored and streamed name (the SSE `event:` field).
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Publish => "publish",
            ChangeKind::Rollback => "rollback",
            ChangeKind::Withdraw => "withdraw",
            ChangeKind::Delete => "delete",
            ChangeKind::Restore => "restore",
            ChangeKind::NameField => "name_field",
            ChangeKind::Photos => "photos",
            ChangeKind::Draft => "draft",
            ChangeKind::ReportNew => "report_new",
            ChangeKind::ReportStatus => "report_status",
            ChangeKind::ReportRoute => "report_route",
        }
    }
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ChangeKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        ChangeKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| Error::Corrupt(format!("unknown change kind {s:?}")))
    }
}

/// Who may read an event. Decided when the event is written, from the
/// layer or report as the change left it (and, for a publish or rollback,
/// as it was before: a layer that stops being public still tells the
/// public it changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    /// Everybody.
    Public,
    /// Those who see the agency's internal layers: leaders, admins and
    /// the agency's staff.
    Internal,
    /// Those who see the agency's drafts: its staff and admins.
    Drafts,
    /// Those who see the agency's reports: its staff, leaders and admins.
    Reports,
}

impl Audience {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Public => "public",
            Audience::Internal => "internal",
            Audience::Drafts => "drafts",
            Audience::Reports => "reports",
        }
    }
}

impl FromStr for Audience {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        [
            Audience::Public,
            Audience::Internal,
            Audience::Drafts,
            Audience::Reports,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
        .ok_or_else(|| Error::Corrupt(format!("unknown change audience {s:?}")))
    }
}

/// One event of the change feed, as streamed (its `data:` JSON). Never
/// holds what a citizen wrote or who they are: a report is named by its
/// number, its status and the agency handling it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeEvent {
    /// Grows with every event; the SSE `id:` a follower resumes after.
    pub id: i64,
    /// When the change committed (RFC 3339, UTC).
    pub at: String,
    /// What happened.
    pub kind: ChangeKind,
    /// The layer changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// The version published, made current, named or drafted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// The report changed (its number in the staff queue).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<i64>,
    /// The report's status after the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The agency (OPD) owning the layer or handling the report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    /// The agency a report was routed away from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_agency: Option<String>,
    /// Who may read it.
    #[serde(skip)]
    pub audience: Audience,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for k in ChangeKind::ALL {
            assert_eq!(k.as_str().parse::<ChangeKind>().unwrap(), k);
            assert_eq!(
                serde_json::to_value(k).unwrap(),
                serde_json::json!(k.as_str())
            );
        }
        assert!("publish ".parse::<ChangeKind>().is_err());
    }

    #[test]
    fn an_event_streams_without_its_audience() {
        let e = ChangeEvent {
            id: 7,
            at: "2026-12-01T00:00:00Z".into(),
            kind: ChangeKind::ReportStatus,
            layer: None,
            version: None,
            report: Some(3),
            status: Some("ditangani".into()),
            agency: Some("dinas-pupr".into()),
            from_agency: None,
            audience: Audience::Reports,
        };
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"id": 7, "at": "2026-12-01T00:00:00Z", "kind": "report_status",
                "report": 3, "status": "ditangani", "agency": "dinas-pupr"})
        );
    }
}
