//! Mutation fuzzing of every reader of untrusted input, on stable Rust.
//!
//! `cargo run -p fuzz --release -- TARGET --seconds 60` (or `all`) loads
//! seeds for the target (files of its format under `tests/fixtures`, the
//! earlier findings under `tests/fixtures/fuzz/TARGET`, and small built-in
//! ones), mutates them with a seeded PRNG and feeds them to the real reader
//! for a bounded time. Inputs that give a new kind of outcome (another
//! error message, say) join the corpus, a cheap stand-in for coverage.
//!
//! A finding is a panic (even one the reader's own guard catches), an input
//! taking longer than the time budget, the process's peak resident memory
//! passing a bound, or the process dying (stack overflow, abort): each
//! target runs in a child process, so the parent can still save the input
//! that killed it. The input goes to `fuzz/crashes/` and the exit status is
//! non-zero.
#![allow(
    clippy::unwrap_used,
    reason = "a test tool: a broken invariant should stop it"
)]

mod mutate;
mod targets;

use clap::Parser;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use targets::Target;

#[derive(Parser, Debug, Clone)]
#[command(about = "Fuzz bsc's readers of untrusted input")]
struct Args {
    /// The target (geojson, fgb, shapefile, kml, kmz, csv, gpkg, cql2, bbox, range) or `all`.
    target: String,
    /// How long to fuzz each target.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Seed of the mutations (default: from the clock, printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Time one input may take, in milliseconds.
    #[arg(long, default_value_t = 2_000)]
    budget_ms: u64,
    /// Peak resident memory of the process that counts as a finding, in MiB.
    #[arg(long, default_value_t = 1_024)]
    max_rss_mb: u64,
    /// Where findings are saved.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/crashes"))]
    crashes: PathBuf,
    /// Where seed files are looked for.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures"))]
    fixtures: PathBuf,
    /// Replays the given files through the target once instead of fuzzing.
    #[arg(long, num_args = 1..)]
    replay: Vec<PathBuf>,
    /// Internal: run one target in this process, with this work directory.
    #[arg(long, hide = true)]
    worker: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(dir) = &args.worker {
        return worker(&args, dir);
    }
    let targets: Vec<&str> = if args.target == "all" {
        targets::NAMES.to_vec()
    } else if targets::NAMES.contains(&args.target.as_str()) {
        vec![args.target.as_str()]
    } else {
        eprintln!(
            "unknown target {:?}; one of: all, {}",
            args.target,
            targets::NAMES.join(", ")
        );
        return ExitCode::from(2);
    };
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    let mut failed = false;
    for (i, name) in targets.iter().enumerate() {
        let dir = std::env::temp_dir().join(format!("bsc-fuzz-{}-{name}", std::process::id()));
        if let Err(e) = std::fs::create_dir_all(&dir) {
            eprintln!("cannot create {}: {e}", dir.display());
            return ExitCode::from(2);
        }
        let exe = std::env::current_exe().unwrap();
        let mut cmd = std::process::Command::new(exe);
        cmd.arg(name)
            .arg("--seconds")
            .arg(args.seconds.to_string())
            .arg("--seed")
            .arg(seed.wrapping_add(i as u64).to_string())
            .arg("--budget-ms")
            .arg(args.budget_ms.to_string())
            .arg("--max-rss-mb")
            .arg(args.max_rss_mb.to_string())
            .arg("--crashes")
            .arg(&args.crashes)
            .arg("--fixtures")
            .arg(&args.fixtures)
            .arg("--worker")
            .arg(&dir);
        if !args.replay.is_empty() {
            cmd.arg("--replay").args(&args.replay);
        }
        let status = cmd.status();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) if s.code() == Some(1) => failed = true, // the worker saved and told
            Ok(s) if s.code() == Some(2) => {
                failed = true; // the fuzzer itself failed (a full disk, say) and said why
                eprintln!("{name}: the fuzzer could not run");
            }
            other => {
                failed = true;
                let current = std::fs::read_dir(&dir)
                    .ok()
                    .and_then(|d| {
                        d.flatten()
                            .find(|e| e.file_name().to_string_lossy().starts_with("current"))
                    })
                    .map(|e| e.path());
                let why = format!("the process died ({other:?})");
                match current.and_then(|p| std::fs::read(p).ok()) {
                    Some(input) => {
                        let target = Target::by_name(name).unwrap();
                        save(&args.crashes, &target, "died", &input, &why);
                    }
                    None => eprintln!("{name}: {why}, and its last input was not found"),
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The message and place of the last panic in this process (the readers'
/// own guard catches panics, so the hook is how a fuzzer sees them).
static PANIC: Mutex<Option<String>> = Mutex::new(None);

fn worker(args: &Args, dir: &Path) -> ExitCode {
    let target = Target::by_name(&args.target).unwrap();
    std::panic::set_hook(Box::new(|info| {
        let bt = std::backtrace::Backtrace::force_capture().to_string();
        // The frames from the panic up to the target's entry point are enough.
        let end = bt
            .find("fuzz::targets")
            .or(bt.find("targets.rs"))
            .unwrap_or(bt.len());
        let end = bt[end..].find('\n').map_or(bt.len(), |n| end + n);
        if let Ok(mut p) = PANIC.lock() {
            p.get_or_insert_with(|| format!("{info}\n{}", &bt[..end]));
        }
    }));
    let current = dir.join(format!("current.{}", target.ext));
    let replay = !args.replay.is_empty();

    // A watchdog for inputs that never finish: the main thread cannot be
    // interrupted, so the whole process ends with the input saved.
    let started = Arc::new(AtomicU64::new(0));
    let epoch = Instant::now();
    {
        let (started, current, crashes) = (started.clone(), current.clone(), args.crashes.clone());
        let hard = Duration::from_millis(args.budget_ms.saturating_mul(5).max(10_000));
        let target = target.clone();
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(100));
                let s = started.load(Ordering::SeqCst);
                if s != 0 && epoch.elapsed().saturating_sub(Duration::from_millis(s)) > hard {
                    let input = std::fs::read(&current).unwrap_or_default();
                    let why = format!("one input ran for more than {} s", hard.as_secs());
                    save(&crashes, &target, "timeout", &input, &why);
                    std::process::exit(1);
                }
            }
        });
    }

    let mut corpus = if replay {
        args.replay
            .iter()
            .filter_map(|p| std::fs::read(p).ok())
            .collect()
    } else {
        target.seeds(&args.fixtures)
    };
    if corpus.is_empty() {
        corpus.push(Vec::new());
    }
    let seeds = corpus.len();
    let seed = args.seed.unwrap_or(1);
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut outcomes = std::collections::HashSet::new();
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let budget = Duration::from_millis(args.budget_ms);
    let max_rss = args.max_rss_mb << 20;
    let mut execs: u64 = 0;
    let mut window: Vec<Vec<u8>> = Vec::new();
    reset_peak_memory();
    let begin = Instant::now();
    let mut i = 0;
    loop {
        let input = if replay || i < seeds {
            if i >= corpus.len() {
                break;
            }
            corpus[i].clone()
        } else {
            if Instant::now() >= deadline {
                break;
            }
            mutate::mutate(&mut rng, &corpus, &target)
        };
        i += 1;
        if let Err(e) = std::fs::write(&current, &input) {
            eprintln!("cannot write {}: {e}", current.display());
            return ExitCode::from(2);
        }
        let t = Instant::now();
        started.store(
            (epoch.elapsed().as_millis() as u64).max(1),
            Ordering::SeqCst,
        );
        let outcome = std::panic::catch_unwind(|| target.run(&input, &current));
        started.store(0, Ordering::SeqCst);
        let took = t.elapsed();
        execs += 1;
        let panic = PANIC.lock().ok().and_then(|mut p| p.take());
        let finding = match (panic, outcome) {
            (Some(p), _) => Some(("panic", format!("panicked: {p}"))),
            (None, Err(_)) => Some(("panic", "panicked".to_owned())),
            (None, Ok(Err(broken))) => Some(("broken", format!("broke a promise: {broken}"))),
            (None, Ok(Ok(sig))) => {
                if outcomes.insert(sig) && !replay && corpus.len() < 4_000 {
                    corpus.push(input.clone());
                }
                None
            }
        }
        .or_else(|| {
            (took > budget).then(|| {
                (
                    "slow",
                    format!("one input took {took:?}, more than {budget:?}"),
                )
            })
        });
        if let Some((kind, why)) = finding {
            save(&args.crashes, &target, kind, &input, &why);
            return ExitCode::from(1);
        }
        // Reading and resetting the peak memory costs more than a small
        // input: it is checked every few inputs (after every slower one),
        // and on a breach the inputs since the last check run again one by
        // one to find the culprit.
        window.push(input);
        if window.len() < WINDOW && took < Duration::from_millis(1) {
            continue;
        }
        let breach = peak_memory().is_some_and(|m| m > max_rss);
        reset_peak_memory();
        if breach {
            let last = window.last().cloned().unwrap_or_default();
            let (input, m) =
                culprit(&target, &current, &mut window, max_rss).unwrap_or((last, max_rss));
            let why = format!("peak resident memory reached {} MiB", m >> 20);
            save(&args.crashes, &target, "memory", &input, &why);
            return ExitCode::from(1);
        }
        window.clear();
    }
    let secs = begin.elapsed().as_secs_f64();
    println!(
        "{}: {execs} inputs in {secs:.1} s ({:.0}/s), {} outcomes, corpus {} (from {seeds} seeds), seed {seed}: no finding",
        target.name,
        execs as f64 / secs.max(1e-9),
        outcomes.len(),
        corpus.len()
    );
    ExitCode::SUCCESS
}

/// Inputs run between two checks of the peak memory.
const WINDOW: usize = 64;

/// Runs the inputs of a window again one by one: the first to pass the
/// memory bound, with the peak it reached.
fn culprit(
    target: &Target,
    current: &Path,
    window: &mut Vec<Vec<u8>>,
    max_rss: u64,
) -> Option<(Vec<u8>, u64)> {
    for input in window.drain(..) {
        std::fs::write(current, &input).ok()?;
        reset_peak_memory();
        let _ = std::panic::catch_unwind(|| target.run(&input, current));
        if let Some(m) = peak_memory().filter(|&m| m > max_rss) {
            return Some((input, m));
        }
    }
    None
}

/// Saves a finding and says where.
fn save(dir: &Path, target: &Target, kind: &str, input: &[u8], why: &str) {
    let hash = input.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let path = dir.join(format!("{}-{kind}-{hash:016x}.{}", target.name, target.ext));
    let saved = std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, input));
    eprintln!("FINDING in {}: {why}", target.name);
    match saved {
        Ok(()) => eprintln!("input saved to {}", path.display()),
        Err(e) => eprintln!("input could not be saved to {}: {e}", path.display()),
    }
}

/// Resets the kernel's record of the process's peak resident memory.
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The process's peak resident memory in bytes since the last reset.
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb << 10)
}
