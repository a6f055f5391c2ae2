//! Who acts and on what: roles and accounts, the actor an audit record
//! names, and the owner of a layer that a [`Guard`] decides on.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::Visibility;
use crate::error::Result;

/// What a user may do (see DESIGN.md, "Who uses it").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Users, agencies, backups; sees and may change everything.
    Admin,
    /// Regency leaders: see every agency's layers, change nothing.
    Leader,
    /// Staff of one agency (OPD): publish that agency's layers.
    OpdStaff,
}

impl Role {
    /// The name stored in the database and shown in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Leader => "leader",
            Role::OpdStaff => "opd_staff",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Role::Admin),
            "leader" => Ok(Role::Leader),
            "opd_staff" => Ok(Role::OpdStaff),
            other => Err(format!(
                "unknown role {other:?}: expected admin, leader or opd_staff"
            )),
        }
    }
}

/// A logged-in user as requests see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    /// Database id.
    pub id: i64,
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// The agency (OPD) slug an `opd_staff` user belongs to.
    pub agency: Option<String>,
}

/// The owner and state of a layer, as a [`Guard`] sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// Layer id.
    pub layer: String,
    /// Owning agency slug, if any.
    pub agency: Option<String>,
    /// Who may see the published layer.
    pub visibility: Visibility,
    /// Whether a version of it is served (it has been published); a layer
    /// with drafts only is seen by its agency and admins alone.
    pub published: bool,
    /// Whether the layer is hidden (deleted).
    pub deleted: bool,
}

/// Decides, inside the write's transaction, whether the caller may change
/// a layer: `Err(NotFound)` for a layer they may not see, `Err(Forbidden)`
/// for one they may see but not change.
pub type Guard<'a> = &'a (dyn Fn(&Owner) -> Result<()> + Send + Sync);

/// Who is changing something, for the audit log.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    /// The account, `None` for the command line.
    pub account: Option<&'a Account>,
    /// The client's address.
    pub client: Option<&'a str>,
}
