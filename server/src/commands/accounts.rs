//! `bsc user` and `bsc token`: accounts and API tokens.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{anyhow, bail};
use layers::store::accounts::NewUser;
use layers::{Error, Store};

use super::terminal::{CLI, group, plain, print_table, read_password, terminal_qr};
use crate::cli::{TokenCommand, UserCommand};

/// `bsc user ...`.
pub async fn user(cmd: UserCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        UserCommand::Add(args) => {
            let role = args.role;
            // Checked before asking for the password, so a typo costs nothing.
            layers::store::accounts::check_user_name(&args.name).map_err(plain)?;
            let password = read_password(&args.name)?;
            let store = Store::open(&args.db.database).await?;
            let result = store
                .create_user(
                    &NewUser {
                        name: &args.name,
                        role,
                        agency: args.agency.as_deref(),
                        create_agency: args.create_agency,
                        password: &password,
                    },
                    CLI,
                )
                .await;
            store.close().await;
            let user = result.map_err(|e| match e {
                Error::BadRequest(m) if m.contains("unknown agency") => {
                    anyhow!("{m} (add --create-agency to create it)")
                }
                other => plain(other),
            })?;
            println!(
                "created user {} ({}{})",
                user.name,
                user.role,
                user.agency
                    .map(|a| format!(", agency {a}"))
                    .unwrap_or_default()
            );
        }
        UserCommand::List(args) => {
            let store = Store::open(&args.db.database).await?;
            let users = store.users().await;
            store.close().await;
            let users = users.map_err(plain)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&users)?);
            } else {
                let rows: Vec<Vec<String>> = users
                    .iter()
                    .map(|u| {
                        vec![
                            u.name.clone(),
                            u.role.to_string(),
                            u.agency.clone().unwrap_or_else(|| "-".into()),
                            if u.disabled { "disabled" } else { "active" }.into(),
                            if u.totp { "yes" } else { "no" }.into(),
                            u.created_at.clone(),
                        ]
                    })
                    .collect();
                print_table(
                    &["NAME", "ROLE", "AGENCY", "STATUS", "TOTP", "CREATED"],
                    &rows,
                );
            }
        }
        UserCommand::Disable(args) => {
            let store = Store::open(&args.db.database).await?;
            let result = store.disable_user(&args.name, CLI).await;
            store.close().await;
            result.map_err(plain)?;
            println!(
                "disabled user {}; their sessions are ended and API tokens revoked",
                args.name
            );
        }
        UserCommand::Passwd(args) => {
            let store = Store::open(&args.db.database).await?;
            let exists = store.user(&args.name).await.map_err(plain)?.is_some();
            if !exists {
                store.close().await;
                bail!("no user named {:?}", args.name);
            }
            let password = read_password(&args.name)?;
            let result = store.set_password(&args.name, &password, CLI).await;
            store.close().await;
            result.map_err(plain)?;
            println!(
                "password of {} changed; their sessions are ended",
                args.name
            );
        }
        UserCommand::Totp(args) => {
            let store = Store::open(&args.db.database).await?;
            if args.disable {
                let result = store.disable_totp(&args.name, CLI).await;
                store.close().await;
                if result.map_err(plain)? {
                    println!(
                        "second factor of {} removed; they log in with their password alone",
                        args.name
                    );
                } else {
                    println!("{} had no second factor", args.name);
                }
            } else {
                let result = store.enable_totp(&args.name, CLI).await;
                store.close().await;
                let enrolment = result.map_err(plain)?;
                // The secret goes to standard output only, once; the
                // explanation to standard error, so `> file` keeps just the URL.
                eprintln!(
                    "second factor of {} enrolled (any earlier one no longer works). Add it to an \
                     authenticator app (Google Authenticator, Microsoft Authenticator, FreeOTP, ...) \
                     by opening or scanning the URL below, or by typing the key \
                     {} (time-based, 6 digits, 30 s). It is shown only now. From now on the \
                     user logs in with the app's current code in the \"otp\" field.",
                    args.name,
                    group(&enrolment.secret),
                );
                if std::io::stderr().is_terminal() {
                    eprint!("{}", terminal_qr(&enrolment.url));
                }
                println!("{}", enrolment.url);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
/// `bsc token ...`.
pub async fn token(cmd: TokenCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        TokenCommand::Create(args) => {
            let store = Store::open(&args.db.database).await?;
            let label = args.name.unwrap_or_else(|| "cli".to_owned());
            let result = store.create_token(&args.user, &label, CLI).await;
            store.close().await;
            let token = result.map_err(plain)?;
            eprintln!(
                "created API token {} for {}; it is shown only now:",
                token.id, args.user
            );
            println!("{}", token.token);
        }
        TokenCommand::List(args) => {
            let store = Store::open(&args.db.database).await?;
            let tokens = store.tokens(args.user.as_deref()).await;
            store.close().await;
            let tokens = tokens.map_err(plain)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&tokens)?);
            } else {
                let rows: Vec<Vec<String>> = tokens
                    .iter()
                    .map(|t| {
                        vec![
                            t.id.to_string(),
                            t.user.clone(),
                            t.name.clone(),
                            format!("{}…", t.prefix),
                            t.created_at.clone(),
                            t.last_used_at.clone().unwrap_or_else(|| "-".into()),
                            t.revoked_at
                                .as_ref()
                                .map_or_else(|| "active".into(), |r| format!("revoked {r}")),
                        ]
                    })
                    .collect();
                print_table(
                    &[
                        "ID",
                        "USER",
                        "NAME",
                        "TOKEN",
                        "CREATED",
                        "LAST USED",
                        "STATUS",
                    ],
                    &rows,
                );
            }
        }
        TokenCommand::Revoke(args) => {
            let store = Store::open(&args.db.database).await?;
            let result = store.revoke_token(args.id, CLI).await;
            store.close().await;
            result.map_err(plain)?;
            println!("revoked API token {}", args.id);
        }
    }
    Ok(ExitCode::SUCCESS)
}
