//! Logs a machine reads: no terminal colour codes when standard error is
//! not a terminal, and one JSON object per line with `--log-format json`.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::Workspace;

/// The first lines `bsc serve ARGS` writes to a pipe, up to "listening".
fn first_lines(ws: &Workspace, args: &[&str]) -> Vec<String> {
    let mut child = Command::new(common::BSC)
        .current_dir(ws.path(""))
        .args(["serve", "--bind", "127.0.0.1:0", "--database", &ws.db()])
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("BSC_LOG_FORMAT")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        let done = line.contains("listening on");
        lines.push(line);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    lines
}

#[test]
fn logs_to_a_pipe_have_no_colour_codes_and_json_on_request() {
    let ws = Workspace::new();
    let text = first_lines(&ws, &[]);
    assert!(text.iter().any(|l| l.contains("listening on")), "{text:?}");
    assert!(
        text.iter().all(|l| !l.contains('\u{1b}')),
        "colour codes in a pipe: {text:?}"
    );
    let json = first_lines(&ws, &["--log-format", "json"]);
    let last: serde_json::Value = serde_json::from_str(json.last().unwrap()).unwrap();
    assert_eq!(last["level"], "INFO", "{last}");
    assert!(
        last["fields"]["message"]
            .as_str()
            .unwrap()
            .contains("listening on"),
        "{last}"
    );
    for line in &json {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    }
}
