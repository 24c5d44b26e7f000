//! The `raceway` command. `raceway analyze FILE...` merges JSON-lines event
//! files written by several processes or services
//! (`RACEWAY_ENDPOINT=file:///…`, or a Raceway server's export) into one
//! analysis; `raceway help` and `raceway analyze --help` say the rest.
//!
//! Files are read as streams, never whole: each through a reordering
//! window that restores timestamp order (as the embedded analyzer does),
//! merged by timestamp across files, so memory follows the window and what
//! the analysis retains (executions alive, variables), not the input's
//! size.

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use raceway::analyzer::{Analyzer, Reorder, Report};
use raceway::wire::Event;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet, VecDeque};
use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Find logical race conditions in the events that Raceway for Rust
/// recorded.
#[derive(Parser)]
#[command(name = "raceway", version, propagate_version = true)]
#[command(
    after_help = "Exit status of analyze: 0 no races, 1 races found, 2 an error (usage, unreadable input, no events)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Merge JSON-lines event files into one race analysis and print the report.
    #[command(long_about = "Merge JSON-lines event files into one race analysis and print the report.\n\n\
        Each FILE holds one event per line, as a program writes it with \
        RACEWAY_ENDPOINT=file:///path.jsonl (or a Raceway server's export). Files of \
        several processes or services merge into one analysis: the clocks that crossed \
        their calls order them. An event read twice (the same id, as when a file is given \
        twice) counts once; lines that are not events are skipped with a warning.\n\n\
        The report goes to stdout: text (coloured on a terminal), or JSON with --json; \
        --html also writes the HTML page. A progress bar shows on stderr for inputs of \
        4 MiB or more when stderr is a terminal.")]
    #[command(after_help = "Exit status: 0 no races, 1 races found, 2 an error (usage, unreadable input, no events).")]
    Analyze(AnalyzeArgs),
}

#[derive(Args)]
struct AnalyzeArgs {
    /// JSON-lines event files (one event per line); `-` reads stdin.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Also write the report as a self-contained HTML page to PATH.
    #[arg(long, value_name = "PATH")]
    html: Option<PathBuf>,
    /// How far out of timestamp order events may be within one file, in
    /// seconds: an event is analyzed once one this much newer was read, or
    /// once the file's window is full (--window-events).
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    window: f64,
    /// How many events one file's window holds at most: what bounds memory
    /// (about 4 KiB an event; the embedded analyzer holds as many).
    #[arg(long, value_name = "N", default_value_t = 65_536, value_parser = clap::value_parser!(u64).range(1..))]
    window_events: u64,
    /// Never show the progress bar.
    #[arg(long)]
    no_progress: bool,
    /// Report only the interleavings that happened, not the races a
    /// feasible reordering of the run exhibits (as RACEWAY_PREDICT=0 does).
    #[arg(long)]
    no_predict: bool,
}

/// `RACEWAY_PREDICT` (default: predict).
fn predict_from_env() -> Result<bool, String> {
    match std::env::var("RACEWAY_PREDICT") {
        Ok(v) if !v.trim().is_empty() => match v.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(format!("invalid RACEWAY_PREDICT {v:?}: expected 1/0, true/false, yes/no or on/off")),
        },
        _ => Ok(true),
    }
}

/// Inputs smaller than this get no progress bar.
const PROGRESS_FROM_BYTES: u64 = 4 << 20;
/// Lines that are not events are named one by one up to this many.
const NAMED_BAD_LINES: u64 = 10;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Analyze(args) => match analyze(&args) {
            Ok(report) if report.is_clean() => ExitCode::SUCCESS,
            Ok(_) => ExitCode::from(1),
            Err(message) => {
                eprintln!("raceway analyze: {message}");
                ExitCode::from(2)
            }
        },
    }
}

fn analyze(args: &AnalyzeArgs) -> Result<Report, String> {
    if !(args.window.is_finite() && args.window >= 0.0) {
        return Err(format!("--window {}: expected a number of seconds, 0 or more", args.window));
    }
    let window = Duration::from_secs_f64(args.window);
    let mut sources = Vec::with_capacity(args.files.len());
    let mut total_bytes = 0u64;
    for path in &args.files {
        let name = path.display().to_string();
        let reader: Box<dyn Read> = if name == "-" {
            Box::new(std::io::stdin())
        } else {
            let file = File::open(path).map_err(|e| format!("cannot open {name}: {e}"))?;
            if let Ok(meta) = file.metadata() {
                if meta.is_dir() {
                    return Err(format!("{name} is a directory, not an event file"));
                }
                total_bytes += meta.len();
            }
            Box::new(file)
        };
        sources.push(Source::new(name, reader, args.window_events as usize, window));
    }
    let show = !args.no_progress && total_bytes >= PROGRESS_FROM_BYTES && std::io::stderr().is_terminal();
    let progress = if show { progress_bar(total_bytes) } else { ProgressBar::hidden() };
    let mut warnings = Warnings { progress: progress.clone(), named: 0, skipped: 0 };

    let mut merge = Merge::new(sources, &mut warnings)?;
    let predict = !args.no_predict && predict_from_env()?;
    let mut analyzer = Analyzer::with_prediction(predict);
    let mut duplicates = Duplicates::default();
    let mut events = 0u64;
    while let Some(event) = merge.next(&mut warnings)? {
        if duplicates.seen(&event) {
            continue;
        }
        analyzer.observe(&event);
        events += 1;
        if events % 4096 == 0 {
            progress.set_position(merge.bytes_read());
        }
    }
    progress.finish_and_clear();
    if warnings.skipped > NAMED_BAD_LINES {
        eprintln!(
            "raceway analyze: skipped {} lines in all that are not events (the first {NAMED_BAD_LINES} are named above)",
            warnings.skipped
        );
    }
    if events == 0 {
        let names: Vec<&str> = merge.sources.iter().map(|s| s.name.as_str()).collect();
        let skipped = match warnings.skipped {
            0 => String::new(),
            n => format!(" ({n} line{} that are not events)", if n == 1 { "" } else { "s" }),
        };
        return Err(format!(
            "no events in {}{skipped}: expected one JSON event per line, as RACEWAY_ENDPOINT=file:///path.jsonl writes them",
            names.join(", ")
        ));
    }
    if duplicates.count > 0 {
        eprintln!(
            "raceway analyze: {} event{} read more than once (the same id) counted once",
            duplicates.count,
            if duplicates.count == 1 { "" } else { "s" }
        );
    }
    let report = analyzer.report();
    if let Some(path) = &args.html {
        std::fs::write(path, report.to_html()).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let color = std::io::stdout().is_terminal();
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    // A closed pipe (`| head`) is not an error of the analysis.
    let _ = if args.json {
        serde_json::to_writer_pretty(&mut stdout, &report).map_err(std::io::Error::from).and_then(|()| writeln!(stdout))
    } else {
        stdout.write_all(report.render(color).as_bytes())
    }
    .and_then(|()| stdout.flush());
    drop(stdout);
    Ok(report)
}

fn progress_bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{spinner} analyzing [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({eta})",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// The warnings for lines that are not events: the first few named, the
/// rest counted.
struct Warnings {
    progress: ProgressBar,
    named: u64,
    skipped: u64,
}

impl Warnings {
    fn bad_line(&mut self, name: &str, line: u64, error: &serde_json::Error) {
        self.skipped += 1;
        if self.named < NAMED_BAD_LINES {
            self.named += 1;
            self.progress
                .suspend(|| eprintln!("raceway analyze: {name}:{line}: skipping a line that is not an event: {error}"));
        }
    }
}

/// One input, read line by line, its events released in timestamp order
/// through a reordering window.
struct Source {
    name: String,
    reader: BufReader<Box<dyn Read>>,
    line: Vec<u8>,
    line_no: u64,
    bytes: u64,
    window: Reorder,
    ready: VecDeque<Event>,
    done: bool,
}

impl Source {
    fn new(name: String, reader: Box<dyn Read>, capacity: usize, window: Duration) -> Source {
        Source {
            name,
            reader: BufReader::with_capacity(1 << 16, reader),
            line: Vec::with_capacity(1024),
            line_no: 0,
            bytes: 0,
            window: Reorder::new(capacity, window),
            ready: VecDeque::new(),
            done: false,
        }
    }

    /// The next event in timestamp order, if any.
    fn next(&mut self, warnings: &mut Warnings) -> Result<Option<Event>, String> {
        while self.ready.is_empty() && !self.done {
            self.line.clear();
            let n =
                self.reader.read_until(b'\n', &mut self.line).map_err(|e| format!("cannot read {}: {e}", self.name))?;
            if n == 0 {
                self.done = true;
                self.ready.extend(self.window.drain());
                break;
            }
            self.bytes += n as u64;
            self.line_no += 1;
            let text = self.line.trim_ascii();
            if text.is_empty() {
                continue;
            }
            match serde_json::from_slice::<Event>(text) {
                Ok(event) => self.ready.extend(self.window.push(event)),
                Err(e) => warnings.bad_line(&self.name, self.line_no, &e),
            }
        }
        Ok(self.ready.pop_front())
    }
}

/// The sources merged by timestamp; ties go to the earlier file, so the
/// order within each file (an execution's program order) is kept.
struct Merge {
    sources: Vec<Source>,
    heads: BinaryHeap<Reverse<(u128, usize)>>,
    pending: Vec<Option<Event>>,
}

impl Merge {
    fn new(mut sources: Vec<Source>, warnings: &mut Warnings) -> Result<Merge, String> {
        let mut heads = BinaryHeap::new();
        let mut pending = Vec::with_capacity(sources.len());
        for (i, source) in sources.iter_mut().enumerate() {
            let head = source.next(warnings)?;
            if let Some(event) = &head {
                heads.push(Reverse((timestamp(event), i)));
            }
            pending.push(head);
        }
        Ok(Merge { sources, heads, pending })
    }

    fn next(&mut self, warnings: &mut Warnings) -> Result<Option<Event>, String> {
        let Some(Reverse((_, i))) = self.heads.pop() else { return Ok(None) };
        let event = self.pending[i].take();
        let head = self.sources[i].next(warnings)?;
        if let Some(next) = &head {
            self.heads.push(Reverse((timestamp(next), i)));
        }
        self.pending[i] = head;
        Ok(event)
    }

    fn bytes_read(&self) -> u64 {
        self.sources.iter().map(|s| s.bytes).sum()
    }
}

fn timestamp(event: &Event) -> u128 {
    raceway::analyzer::timestamp_ns(&event.timestamp)
}

/// Events already analyzed, by id, among those of the latest timestamp:
/// the copies of one event have its timestamp, so the merge brings them
/// together, and only that timestamp's ids need remembering.
#[derive(Default)]
struct Duplicates {
    at: u128,
    ids: HashSet<uuid::Uuid>,
    count: u64,
}

impl Duplicates {
    fn seen(&mut self, event: &Event) -> bool {
        let at = timestamp(event);
        if at != self.at {
            self.at = at;
            self.ids.clear();
        }
        if self.ids.insert(event.id) {
            false
        } else {
            self.count += 1;
            true
        }
    }
}
