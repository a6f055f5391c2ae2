//! The person at the terminal: who they are to the audit log (`cli`), how
//! they are asked for passwords, and how answers reach them (tables, QR
//! codes, one-line errors, database URLs without their password).

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, anyhow, bail};
use layers::Error;
use layers::model::access::Actor;

/// Reads a password: from a prompt without echo (asked twice) when
/// standard input is a terminal, else the first line of standard input.
pub fn read_password(name: &str) -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("Password for {name}: "))
            .context("reading the password")?;
        let again =
            rpassword::prompt_password("Repeat the password: ").context("reading the password")?;
        if first != again {
            bail!("the two passwords differ");
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        let password = line.trim_end_matches(['\n', '\r']).to_owned();
        if password.is_empty() {
            bail!("no password on standard input (give it as the first line)");
        }
        Ok(password)
    }
}

/// `text` as a QR code drawn with Unicode half blocks, two modules a
/// character, light modules drawn (as `qrencode -t UTF8` does, for the
/// usual dark terminal), with a quiet zone; empty if it does not fit.
pub fn terminal_qr(text: &str) -> String {
    let Ok(qr) = qrcodegen::QrCode::encode_text(text, qrcodegen::QrCodeEcc::Medium) else {
        return String::new();
    };
    let (size, quiet) = (qr.size(), 2);
    let light = |x: i32, y: i32| !qr.get_module(x, y);
    let mut out = String::new();
    for y in (-quiet..size + quiet).step_by(2) {
        for x in -quiet..size + quiet {
            out.push(match (light(x, y), light(x, y + 1)) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        out.push('\n');
    }
    out
}

/// `secret` in groups of four, as authenticator apps show keys.
pub fn group(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Prints rows under a header, columns padded to their widest cell.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}  "));
            }
        }
        println!("{}", out.trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

/// The command line as an actor: recorded as `cli`.
pub const CLI: Actor<'static> = Actor {
    account: None,
    client: None,
};

/// Turns a layers error into a one-line CLI error.
pub fn plain(e: Error) -> anyhow::Error {
    anyhow!("{e}")
}

/// A database URL fit for messages: any password replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{scheme}://{name}:***@{host}{path}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_only_the_password() {
        assert_eq!(
            redact("postgres://bsc:s3cret@db.badung.go.id:5432/bsc?sslmode=require"),
            "postgres://bsc:***@db.badung.go.id:5432/bsc?sslmode=require"
        );
        assert_eq!(redact("postgres://bsc@db/bsc"), "postgres://bsc@db/bsc");
        assert_eq!(redact("sqlite://bsc.db"), "sqlite://bsc.db");
        assert_eq!(redact("bsc.db"), "bsc.db");
    }
}
