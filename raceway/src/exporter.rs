//! The background thread: receives chunks of records, converts them to the
//! wire format, batches them by `batch_size` and `flush_interval`, and hands
//! the batches to the sink.

use crate::convert::{Converted, Converter};
use crate::pipeline::{Chunk, Control, Outputs, Pipeline};
use crate::sink::Sink;
use crate::stats::Stats;
use crate::wire::Event;
use crossbeam_channel::{select, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

struct Exporter {
    pipeline: Arc<Pipeline>,
    data: Receiver<Chunk>,
    sink: Box<dyn Sink>,
    converter: Converter,
    pending: Vec<Event>,
    logged: Stats,
}

/// Starts the exporter thread of `pipeline`, reading `outputs` and
/// delivering to `sink`.
pub(crate) fn spawn(pipeline: Arc<Pipeline>, outputs: Outputs, sink: Box<dyn Sink>) -> std::io::Result<JoinHandle<()>> {
    let Outputs { data, control } = outputs;
    let converter = Converter::new(&pipeline.config);
    let batch_size = pipeline.config.batch_size;
    let exporter =
        Exporter { pipeline, data, sink, converter, pending: Vec::with_capacity(batch_size), logged: Stats::default() };
    std::thread::Builder::new().name("raceway-exporter".into()).spawn(move || exporter.run(control))
}

impl Exporter {
    fn run(mut self, control: Receiver<Control>) {
        lower_priority();
        let tick = self.pipeline.tick_interval();
        let mut next_tick = Instant::now() + tick;
        loop {
            let wake = self.sink.wake_at().map_or(next_tick, |at| at.min(next_tick));
            let timeout = wake.saturating_duration_since(Instant::now());
            select! {
                recv(self.data) -> chunk => {
                    if let Ok(chunk) = chunk {
                        self.take(chunk);
                    }
                }
                recv(control) -> request => match request {
                    Ok(Control::Flush(done)) => {
                        self.flush_all();
                        let _ = done.send(0);
                    }
                    Ok(Control::Shutdown(done)) => {
                        self.collect();
                        self.ship_pending();
                        let deadline = self.pipeline.deadline.get().unwrap_or_else(|| {
                            Instant::now() + self.pipeline.config.flush_timeout.mul_f64(0.8)
                        });
                        let given_up = self.sink.close(&self.pipeline.counters, deadline);
                        self.log_stats();
                        let _ = done.send(given_up);
                        return;
                    }
                    Err(_) => return,
                },
                default(timeout) => {}
            }
            let now = Instant::now();
            if now >= next_tick || self.sink.tick_due(self.pipeline.lost_ends()) {
                // Threads that went idle still hold records: collect them, and
                // ship the partial batch.
                self.collect();
                self.ship_pending();
                self.sink.pump(&self.pipeline.counters, false);
                self.log_stats();
                next_tick = now + tick;
            } else if self.sink.wake_at().is_some_and(|at| now >= at) {
                self.sink.pump(&self.pipeline.counters, false);
            }
        }
    }

    /// Converts a chunk, shipping every full batch.
    fn take(&mut self, Chunk(mut records, weight): Chunk) {
        self.pipeline.taken(weight);
        for record in records.drain(..) {
            match self.converter.convert(record) {
                Converted::Event(event) => {
                    self.pending.push(event);
                    if self.pending.len() >= self.pipeline.config.batch_size {
                        self.ship_pending();
                    }
                }
                Converted::Ended(ending) => self.sink.ended(ending),
                Converted::Nothing => {}
            }
        }
        self.pipeline.recycle(records);
        self.pipeline.made_room();
    }

    fn ship_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let batch = std::mem::replace(&mut self.pending, Vec::with_capacity(self.pipeline.config.batch_size));
        self.sink.submit(batch, &self.pipeline.counters);
    }

    /// Receives every chunk in the channel, then every thread's buffer;
    /// then forgets the executions whose end was dropped before.
    fn collect(&mut self) {
        let lost_ends = self.pipeline.take_lost_ends();
        self.drain();
        let mut backlog = Vec::new();
        let data = &self.data;
        self.pipeline.collect_buffers(|| {
            let before = backlog.len();
            backlog.extend(data.try_iter());
            backlog.len() > before
        });
        for chunk in backlog {
            self.take(chunk);
        }
        self.drain();
        for (exec, freed) in lost_ends {
            if let Some(ending) = self.converter.end(exec, freed) {
                self.sink.ended(ending);
            }
        }
    }

    /// Takes the chunks in the channel now: not those sent meanwhile, or
    /// under a steady load a tick (and the analysis and retirement that
    /// wait for it) would never end.
    fn drain(&mut self) {
        for _ in 0..self.data.len() {
            match self.data.try_recv() {
                Ok(chunk) => self.take(chunk),
                Err(_) => break,
            }
        }
    }

    /// Everything accepted before the request, delivered or given up on.
    fn flush_all(&mut self) {
        self.collect();
        self.ship_pending();
        self.sink.pump(&self.pipeline.counters, true);
    }

    fn log_stats(&mut self) {
        if !self.pipeline.config.debug {
            return;
        }
        let stats = self.pipeline.stats();
        if stats != self.logged {
            crate::log::warn(format_args!("{stats}"));
            self.logged = stats;
        }
    }
}

/// The host program comes first: when the CPUs are busy, the exporter yields
/// to the instrumented threads (and drops events if it falls behind) rather
/// than competing with them.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain system calls on the calling thread; failure is harmless.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
}
