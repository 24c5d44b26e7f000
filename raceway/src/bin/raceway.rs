//! `raceway analyze FILE... [--json]`: merges JSON-lines event files written
//! by several processes or services (`RACEWAY_ENDPOINT=file:///…`, or a
//! Raceway server's export) into one analysis.
//!
//! Prints the text report, or the JSON report with `--json`. Exits with 1
//! when races were found, 2 on a usage or input error, 0 otherwise.

use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::process::ExitCode;

const USAGE: &str = "usage: raceway analyze [--json] FILE...\n\
    Merges JSON-lines event files into one race analysis.\n\
    Exit status: 0 no races, 1 races found, 2 error.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("analyze") => {}
        Some("-h" | "--help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    }
    let json = args.iter().any(|a| a == "--json");
    let files: Vec<&String> = args[1..].iter().filter(|a| *a != "--json").collect();
    if files.is_empty() {
        eprintln!("raceway analyze: no input files\n{USAGE}");
        return ExitCode::from(2);
    }
    let mut events = Vec::new();
    for path in files {
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("raceway analyze: cannot open {path}: {e}");
                return ExitCode::from(2);
            }
        };
        for (n, line) in BufReader::new(file).lines().enumerate() {
            let line = match line {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("raceway analyze: cannot read {path}: {e}");
                    return ExitCode::from(2);
                }
            };
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<raceway::wire::Event>(&line) {
                Ok(event) => events.push(event),
                Err(e) => eprintln!("raceway analyze: {path}:{}: skipping a line that is not an event: {e}", n + 1),
            }
        }
    }
    let predict = match std::env::var("RACEWAY_PREDICT") {
        Ok(v) if !v.trim().is_empty() => match v.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => true,
            "0" | "false" | "no" | "off" => false,
            _ => {
                eprintln!("raceway analyze: invalid RACEWAY_PREDICT {v:?}: expected true/false, 1/0, yes/no or on/off");
                return ExitCode::from(2);
            }
        },
        _ => true,
    };
    let report = raceway::analyzer::analyze_with_prediction(events, predict);
    let out = if json { report.to_json() + "\n" } else { report.render(std::io::stdout().is_terminal()) };
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
