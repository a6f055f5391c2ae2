//! User accounts: roles, password hashes, sessions, API tokens and login
//! throttling.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

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
