//! `bsc audit`: the audit log, newest first.

use std::process::ExitCode;

use layers::Store;
use layers::store::audit::{self, Filter};

use super::terminal::{plain, print_table};
use crate::cli::AuditArgs;

/// `bsc audit`.
pub async fn audit_log(args: AuditArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open(&args.db.database).await?;
    let entries = audit::list(
        &store,
        &Filter {
            limit: args.limit,
            before: args.before,
            action: args.action.as_deref(),
            layer: args.layer.as_deref(),
            actor: args.actor.as_deref(),
            ..Filter::default()
        },
    )
    .await;
    store.close().await;
    let entries = entries.map_err(plain)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&entries)?);
    } else {
        let rows: Vec<Vec<String>> = entries
            .iter()
            .map(|e| {
                let versions = match (e.from_version, e.to_version) {
                    (None, None) => "-".to_owned(),
                    (f, t) => format!(
                        "{}→{}",
                        f.map_or("-".into(), |v| v.to_string()),
                        t.map_or("-".into(), |v| v.to_string())
                    ),
                };
                vec![
                    e.id.to_string(),
                    e.at.clone(),
                    e.actor.clone().unwrap_or_else(|| "-".into()),
                    e.client.clone().unwrap_or_else(|| "-".into()),
                    e.action.clone(),
                    e.layer.clone().unwrap_or_else(|| "-".into()),
                    versions,
                    e.detail
                        .as_ref()
                        .map_or_else(|| "-".into(), ToString::to_string),
                ]
            })
            .collect();
        print_table(
            &[
                "ID", "AT", "ACTOR", "CLIENT", "ACTION", "LAYER", "VERSIONS", "DETAIL",
            ],
            &rows,
        );
    }
    Ok(ExitCode::SUCCESS)
}
