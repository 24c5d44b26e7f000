//! The JSON-lines sink: one event per line, the same JSON as on the wire.

use super::Sink;
use crate::config::ConfigError;
use crate::log::warn;
use crate::stats::Counters;
use crate::wire::Event;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

pub(super) struct FileSink {
    path: PathBuf,
    out: BufWriter<File>,
    /// Events written into the buffer but not yet flushed to the file.
    unflushed: usize,
    warned: bool,
    line: Vec<u8>,
}

impl FileSink {
    pub(super) fn open(path: &Path) -> Result<FileSink, ConfigError> {
        let endpoint = || format!("file://{}", path.display());
        let error = |problem: String| ConfigError::field("RACEWAY_ENDPOINT", "endpoint", endpoint(), problem);
        // A missing directory is a mistyped path more often than a wish:
        // it is not created.
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.is_dir() {
                return Err(error(format!("the directory {} does not exist", dir.display())));
            }
        }
        if path.is_dir() {
            return Err(error("is a directory: name a file in it, as in file:///tmp/events.jsonl".into()));
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| error(format!("cannot open for appending: {e}")))?;
        Ok(FileSink {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(1 << 16, file),
            unflushed: 0,
            warned: false,
            line: Vec::with_capacity(512),
        })
    }

    fn failed(&mut self, counters: &Counters, n: usize, error: std::io::Error) {
        counters.failed(n);
        if !self.warned {
            self.warned = true;
            warn(format_args!("cannot write events to {}: {error}", self.path.display()));
        }
    }
}

impl Sink for FileSink {
    fn submit(&mut self, events: Vec<Event>, counters: &Counters) {
        for event in &events {
            self.line.clear();
            if crate::wire::write_event(&mut self.line, event).is_err() {
                counters.failed(1);
                continue;
            }
            self.line.push(b'\n');
            // Whole lines only: a line is written to the buffer in one piece.
            match self.out.write_all(&self.line) {
                Ok(()) => self.unflushed += 1,
                Err(e) => self.failed(counters, 1, e),
            }
        }
        if self.out.buffer().len() > self.out.capacity() / 2 {
            self.pump(counters, true);
        }
    }

    fn pump(&mut self, counters: &Counters, _force: bool) {
        if self.unflushed == 0 {
            return;
        }
        let n = std::mem::take(&mut self.unflushed);
        match self.out.flush() {
            Ok(()) => counters.sent(n),
            Err(e) => self.failed(counters, n, e),
        }
    }
}
