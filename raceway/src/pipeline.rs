//! The hand-off from instrumented threads to the background thread.
//!
//! ```text
//! tracking call ──> per-thread buffer ──(chunks)──> bounded crossbeam channel ──> exporter thread
//!                   (uncontended lock)               (try_send: drop + count when full)
//! ```
//!
//! Each thread appends records to its own buffer, guarded by a lock that only
//! the exporter ever contends for (when it collects the buffers of idle
//! threads, once per flush interval or on `flush()`). A full buffer goes to
//! the channel as one message, so the shared channel is touched once per
//! chunk rather than once per event. The channel is bounded in events and
//! in their [weight] (what the clocks of their context deltas hold): when
//! it is full, the chunk is dropped and counted and the caller never waits
//! ([`Overflow::Drop`]), or the caller waits for room ([`Overflow::Block`]:
//! `raceway::check` sessions, `file://` endpoints by default).

use crate::config::{Config, Endpoint, Overflow};
use crate::event::Record;
use crate::sink::Deadline;
use crate::stats::{Counters, Stats};
use crossbeam_channel::{Receiver, Sender, TrySendError};
use crossbeam_utils::CachePadded;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Largest number of records a thread buffers before handing them over.
const MAX_CHUNK: usize = 64;

/// The [weight](weight) in flight that the channel's capacity allows, per
/// record of it: records that carry small clocks fill the channel first,
/// as before; at the default capacity (65,536) the bound is about 32 MiB.
const MAX_IN_FLIGHT_PER_RECORD: usize = 4;

/// Waits (of at most 5 ms each) a recorder gives the exporter to bring
/// what is in flight under its bound before it sends all the same
/// ([`Overflow::Block`]).
const MAX_WEIGHT_WAITS: u32 = 200;

static NEXT_PIPELINE: AtomicUsize = AtomicUsize::new(1);

/// A message on the data channel: records, and their [weight](weight).
pub(crate) struct Chunk(pub Vec<Record>, pub usize);

/// Clock entries that weigh as much as one record (a record is 128 bytes,
/// an entry 16).
const ENTRIES_PER_RECORD: usize = 8;

/// What records hold in memory, in records: one each, and the clocks their
/// context deltas carry. A clock that grew with every execution a shared
/// lock met makes a record carry megabytes, so the channel's bound in
/// records alone does not bound its memory.
fn weight(records: &[Record]) -> usize {
    records.len()
        + records
            .iter()
            .filter_map(|r| r.delta.as_deref())
            .map(|d| {
                let entries = d.clock.as_ref().map_or(0, |c| c.entries().len())
                    + d.hard.as_ref().map_or(0, |c| c.entries().len());
                entries / ENTRIES_PER_RECORD
            })
            .sum::<usize>()
}

/// A request to the exporter on the control channel. The answer is the
/// number of events given up.
pub(crate) enum Control {
    /// Deliver everything accepted so far, then answer.
    Flush(Sender<u64>),
    /// Deliver everything until the [`Deadline`], answer, and stop.
    Shutdown(Sender<u64>),
}

/// Why [`flush`](crate::RacewayClient::flush) or
/// [`shutdown`](crate::RacewayClient::shutdown) returned before everything was
/// delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FlushError {
    /// The sender did not finish within `flush_timeout`; it goes on in the
    /// background.
    TimedOut(Duration),
    /// The client was shut down.
    Closed,
    /// Shutdown gave up `events` events that could not be delivered within
    /// `flush_timeout` (they are counted in `stats().failed`).
    GaveUp {
        /// Events given up.
        events: u64,
        /// The `flush_timeout` that ran out.
        timeout: Duration,
    },
}

impl fmt::Display for FlushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlushError::TimedOut(t) => write!(
                f,
                "events were not delivered within flush_timeout ({t:?}); is the collector that RACEWAY_ENDPOINT names \
                 up? RACEWAY_FLUSH_TIMEOUT sets how long to wait"
            ),
            FlushError::Closed => f.write_str("the raceway client was shut down"),
            FlushError::GaveUp { events, timeout } => write!(
                f,
                "gave up {events} events that could not be delivered within flush_timeout ({timeout:?}); is the \
                 collector that RACEWAY_ENDPOINT names up? RACEWAY_FLUSH_TIMEOUT sets how long shutdown waits"
            ),
        }
    }
}

impl std::error::Error for FlushError {}

/// The ends of the pipeline's channels that the exporter reads.
pub(crate) struct Outputs {
    pub(crate) data: Receiver<Chunk>,
    pub(crate) control: Receiver<Control>,
}

/// The hand-off between the instrumented threads and the exporter: the
/// threads' buffers, the bounded channel, and the counters.
pub(crate) struct Pipeline {
    pub(crate) id: usize,
    pub(crate) config: Config,
    /// What a full channel does to a recording thread.
    overflow: Overflow,
    /// Whether its analysis (the embedded collector's) retires components
    /// (see `crate::retirement`).
    retires: bool,
    /// Whether its executions continue the slots of ended executions that
    /// nobody joined (its analysis, the Raceway server's, is elsewhere:
    /// see `rt::slots`).
    reuses_slots: bool,
    data: Sender<Chunk>,
    control: Sender<Control>,
    /// Emptied buffers on their way back to the threads: a stack, so that
    /// a thread gets the one the exporter emptied last, still in a cache,
    /// rather than the oldest of up to a channel's worth (a queue cycled
    /// the whole channel's memory through the recording threads' writes,
    /// each record a miss). Touched once per chunk.
    spare: Mutex<Vec<Vec<Record>>>,
    /// How many buffers `spare` keeps; more are freed.
    spare_max: usize,
    chunk: usize,
    /// The [weight](weight) of the chunks handed over and not yet taken
    /// by the exporter, and its bound: a chunk that would go above it is
    /// treated as one the full channel refused.
    in_flight: AtomicUsize,
    max_in_flight: usize,
    buffers: Mutex<Vec<Arc<PaddedBuffer>>>,
    /// Executions whose end was dropped with a refused chunk: the exporter
    /// forgets them at its next collection (at most [`MAX_LOST_ENDS`]
    /// between two).
    /// With the component each freed, if any.
    lost_ends: Mutex<Vec<(u64, Option<u64>)>>,
    closed: AtomicBool,
    /// Recording threads waiting for room ([`Overflow::Block`]), and what
    /// they wait on: the exporter wakes them once the channel is down to
    /// `low_water` chunks, not at every chunk it takes (a wake-up per chunk
    /// cost the exporter a futex call and the recorder a context switch per
    /// 64 events: about an eighth of a `check` session's sustained rate).
    waiting: AtomicUsize,
    room: Condvar,
    room_lock: Mutex<()>,
    low_water: usize,
    /// When delivery must be over; set as the client shuts down.
    pub(crate) deadline: Arc<Deadline>,
    /// Written by the exporter on every delivery: kept off the cache line
    /// of the fields every tracking call reads.
    pub(crate) counters: CachePadded<Counters>,
    /// Events accepted, and dropped at a full channel, by buffers that are
    /// gone.
    retired_accepted: AtomicU64,
    retired_dropped: AtomicU64,
}

/// A thread's buffer on a cache line of its own: two threads' buffers must
/// not share one, or every event would bounce it between their cores.
type PaddedBuffer = CachePadded<ThreadBuffer>;

/// A thread's records behind a lock whose release is a plain store: a
/// locked instruction there (std's futex mutex swaps the state to learn
/// whether anyone sleeps) would wait for the record's stores to reach the
/// cache, which they rarely have (the buffer came back from the exporter's
/// core): that wait was half of what recording an event cost. Only the
/// exporter ever contends for it, with `try_lock`, briefly; the thread
/// itself yields while it waits.
type Records = spin::mutex::SpinMutex<Vec<Record>, spin::relax::Yield>;

/// One thread's records, not yet handed over, and its counters.
pub(crate) struct ThreadBuffer {
    records: Records,
    /// Events accepted, and dropped with a chunk the full channel refused:
    /// counted here rather than on a line every thread writes. Written only
    /// under `records`' lock (one writer at a time: plain loads and stores),
    /// read without it, so that counting never waits for a thread that is
    /// waiting for room in the channel.
    accepted: AtomicU64,
    dropped: AtomicU64,
    /// Chunks this buffer handed over so far: a [`Written`] mark compares
    /// it to know whether its events are still here. Written under
    /// `records`' lock.
    handoffs: AtomicU64,
}

impl ThreadBuffer {
    fn new(chunk: usize) -> Self {
        ThreadBuffer {
            records: Records::new(Vec::with_capacity(chunk)),
            accepted: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            handoffs: AtomicU64::new(0),
        }
    }

    /// Adds `n` to a counter; called with `records`' lock held. A release
    /// store (a plain store on x86 and a `stlr` on ARM): a snapshot that
    /// reads the drops of a chunk also reads the acceptance of its events.
    #[inline(always)]
    fn count(counter: &AtomicU64, n: u64) {
        counter.store(counter.load(Ordering::Relaxed) + n, Ordering::Release);
    }
}

/// How many records ahead of the one written [`prefetch`] asks for.
const PREFETCH_AHEAD: usize = 4;

/// Asks the CPU to bring the slot `at` of `records` (if it has one) into
/// this core's cache: a buffer comes back from the exporter's core, so
/// each record's lines are elsewhere, and writes that wait for them stall
/// the recording thread (at its next locked instruction). Asked a few
/// records ahead, the lines are there when written (about 10 ns less per
/// event in the atomics' bench). A hint only: no effect on what the
/// program does. (`PREFETCHW`, for writing, measured no better.)
#[inline(always)]
fn prefetch(records: &Vec<Record>, at: usize) {
    #[cfg(target_arch = "x86_64")]
    if at < records.capacity() {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // The record's first two lines (a record is up to 128 bytes); the
        // addresses are only computed, never dereferenced.
        let slot = records.as_ptr().wrapping_add(at).cast::<i8>();
        // SAFETY: a prefetch of any address reads and writes nothing the
        // program can observe.
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>(slot);
            _mm_prefetch::<_MM_HINT_T0>(slot.wrapping_add(64));
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (records, at);
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves consistent data
    // (pushes and swaps only): carry on rather than propagate the poison.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Pipeline {
    /// A pipeline for `config` (validated), and the channel ends its
    /// exporter reads.
    pub(crate) fn new(config: Config) -> (Arc<Pipeline>, Outputs) {
        let chunk = config.channel_capacity.clamp(1, MAX_CHUNK);
        let (data, data_rx) = crossbeam_channel::bounded(config.channel_capacity.div_ceil(chunk));
        let (control, control_rx) = crossbeam_channel::unbounded();
        let overflow = config.overflow();
        let spare_max = config.channel_capacity.div_ceil(chunk) + 64;
        let low_water = config.channel_capacity.div_ceil(chunk) / 2;
        let max_in_flight = config.channel_capacity.saturating_mul(MAX_IN_FLIGHT_PER_RECORD);
        let pipeline = Arc::new(Pipeline {
            id: NEXT_PIPELINE.fetch_add(1, Ordering::Relaxed),
            overflow,
            retires: config.endpoint.is_none(),
            reuses_slots: matches!(config.endpoint, Some(Endpoint::Http(_))),
            config,
            data,
            control,
            spare: Mutex::new(Vec::new()),
            spare_max,
            chunk,
            in_flight: AtomicUsize::new(0),
            max_in_flight,
            buffers: Mutex::new(Vec::new()),
            lost_ends: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
            waiting: AtomicUsize::new(0),
            room: Condvar::new(),
            room_lock: Mutex::new(()),
            low_water,
            deadline: Arc::default(),
            counters: CachePadded::new(Counters::default()),
            retired_accepted: AtomicU64::new(0),
            retired_dropped: AtomicU64::new(0),
        });
        (pipeline, Outputs { data: data_rx, control: control_rx })
    }

    /// Whether its executions continue the slots of ended executions that
    /// nobody joined (see `rt::slots`).
    pub(crate) fn reuses_slots(&self) -> bool {
        self.reuses_slots
    }

    #[inline]
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// Sends a full or final buffer to the exporter. When the channel is
    /// full, the chunk is dropped and counted, or (with
    /// [`Overflow::Block`]) the thread waits for room. Called with the
    /// buffer's lock held, so that one thread's chunks enter the channel in
    /// program order.
    #[cold]
    #[inline(never)]
    fn hand_off(&self, buffer: &ThreadBuffer, records: &mut Vec<Record>) {
        self.hand_off_or(buffer, records, true, || false);
    }

    /// Like [`hand_off`](Pipeline::hand_off); when the channel is full,
    /// `make_room` may take chunks out of it (returning true) for one retry.
    /// Only a recording thread (`may_wait`) ever waits for room: the
    /// exporter, which makes it, never does.
    fn hand_off_or(
        &self,
        buffer: &ThreadBuffer,
        records: &mut Vec<Record>,
        may_wait: bool,
        mut make_room: impl FnMut() -> bool,
    ) {
        if records.is_empty() {
            return;
        }
        let weight = weight(records);
        let mut delivering = Delivering::default();
        if self.retires {
            delivering.note(records);
        }
        let chunk = Chunk(std::mem::take(records), weight);
        ThreadBuffer::count(&buffer.handoffs, 1);
        // The exporter (which does not wait) hands over regardless of the
        // weight: it takes the chunks at once.
        let refused = if may_wait && !self.room_for(weight) {
            if self.overflow == Overflow::Block {
                self.send_when_drained(chunk)
            } else {
                Some(TrySendError::Full(chunk))
            }
        } else {
            match self.send(chunk) {
                Ok(()) => None,
                Err(TrySendError::Full(chunk)) if make_room() => self.send(chunk).err(),
                Err(TrySendError::Full(chunk)) if may_wait && self.overflow == Overflow::Block => {
                    self.send_when_drained(chunk)
                }
                Err(e) => Some(e),
            }
        };
        if refused.is_none() {
            delivering.mark();
        }
        *records = match refused {
            // Buffers go back and forth between the threads and the
            // exporter, so the hot path neither allocates them nor frees
            // them across threads.
            None => lock(&self.spare).pop().unwrap_or_else(|| Vec::with_capacity(self.chunk)),
            // A refused chunk's buffer stays with the thread, emptied: it is
            // in this core's cache, and a thread that outruns the exporter
            // then touches nothing the other threads share.
            Some(refused) => {
                let mut lost = refused.into_inner().0;
                ThreadBuffer::count(&buffer.dropped, discard(&mut lost, &self.lost_ends, self.retires));
                lost
            }
        };
        for at in 0..PREFETCH_AHEAD {
            prefetch(records, at);
        }
    }

    /// Sends `chunk` into a full channel once the exporter has drained it to
    /// its low-water mark ([`Overflow::Block`]). A wake-up that is missed
    /// (the exporter read `waiting` before this thread set it) costs at most
    /// the bounded wait; an exporter that is gone ends the wait (the send
    /// fails: disconnected).
    #[cold]
    fn send_when_drained(&self, mut chunk: Chunk) -> Option<TrySendError<Chunk>> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let mut waits = 0u32;
        let refused = loop {
            let heavy = |this: &Self| !this.room_for(chunk.1) && !this.is_closed();
            {
                let guard = lock(&self.room_lock);
                if self.data.len() > self.low_water || heavy(self) {
                    let _ = self.room.wait_timeout(guard, Duration::from_millis(5));
                }
            }
            // Over the weight bound: wait on, but not for ever (about a
            // second: an exporter that stopped taking chunks must not hold
            // the thread; the send then tells a gone exporter).
            waits += 1;
            if heavy(self) && waits < MAX_WEIGHT_WAITS {
                continue;
            }
            match self.send(chunk) {
                Ok(()) => break None,
                Err(TrySendError::Full(back)) => chunk = back,
                Err(e) => break Some(e),
            }
        };
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        refused
    }

    /// Puts `chunk` in the channel, its weight in flight first: the
    /// exporter may take it (and its weight out) at once.
    fn send(&self, chunk: Chunk) -> Result<(), TrySendError<Chunk>> {
        let weight = chunk.1;
        self.in_flight.fetch_add(weight, Ordering::Relaxed);
        self.data.try_send(chunk).inspect_err(|_| {
            self.in_flight.fetch_sub(weight, Ordering::Relaxed);
        })
    }

    /// Whether a chunk of `weight` fits under the bound on what is in
    /// flight. One that weighs more than the bound alone fits when nothing
    /// else is in flight.
    #[inline]
    fn room_for(&self, weight: usize) -> bool {
        let in_flight = self.in_flight.load(Ordering::Relaxed);
        in_flight == 0 || in_flight.saturating_add(weight) <= self.max_in_flight
    }

    /// Whether what is in flight is down to half its bound: where a waiting
    /// recorder is woken (as with the channel's low-water mark).
    #[inline]
    fn drained_to_half(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) <= self.max_in_flight / 2
    }

    /// The exporter took a chunk of `weight` out of flight.
    #[inline]
    pub(crate) fn taken(&self, weight: usize) {
        self.in_flight.fetch_sub(weight, Ordering::Relaxed);
    }

    /// The exporter took chunks: wakes the recording threads waiting for
    /// room once the channel is down to its low-water mark.
    #[inline]
    pub(crate) fn made_room(&self) {
        if self.waiting.load(Ordering::SeqCst) > 0 && self.data.len() <= self.low_water && self.drained_to_half() {
            let _guard = lock(&self.room_lock);
            self.room.notify_all();
        }
    }

    /// The executions whose end was dropped since the last call. Taken
    /// before the exporter drains the channel: everything they recorded
    /// was sent (or dropped) before their end, so once the channel is
    /// drained they can be forgotten.
    pub(crate) fn take_lost_ends(&self) -> Vec<(u64, Option<u64>)> {
        std::mem::take(&mut *lock(&self.lost_ends))
    }

    /// How many executions' ends were dropped since the last
    /// [`take_lost_ends`](Pipeline::take_lost_ends).
    pub(crate) fn lost_ends(&self) -> usize {
        lock(&self.lost_ends).len()
    }

    /// Returns an emptied buffer for reuse; drops it when enough are spare.
    pub(crate) fn recycle(&self, mut records: Vec<Record>) {
        records.clear();
        let mut spare = lock(&self.spare);
        if spare.len() < self.spare_max {
            spare.push(records);
        }
    }

    /// Hands over the buffers of every thread, idle ones included. Called by
    /// the exporter, which passes `make_room` to move chunks out of a full
    /// channel into its own backlog (quickly: a thread's buffer stays locked).
    ///
    /// A buffer whose lock is held belongs to a thread that is recording or
    /// waiting for room in the channel: the exporter makes room and tries it
    /// again, rather than wait for that thread (which waits for it).
    pub(crate) fn collect_buffers(&self, mut make_room: impl FnMut() -> bool) {
        let mut pending: Vec<_> = lock(&self.buffers).clone();
        while !pending.is_empty() {
            pending.retain(|buffer| match buffer.records.try_lock() {
                Some(mut records) => {
                    self.hand_off_or(buffer, &mut records, false, &mut make_room);
                    false
                }
                None => true,
            });
            if !pending.is_empty() {
                make_room();
                std::thread::yield_now();
            }
        }
    }

    /// Counters of this pipeline.
    pub(crate) fn stats(&self) -> Stats {
        self.counters.snapshot(|| self.accepted_and_dropped())
    }

    /// Events accepted and dropped at a full channel, summed over the
    /// threads: drops first, then acceptances (each drop is of an event
    /// accepted before), and the retired counts under the same lock as the
    /// live ones, so that a thread leaving is counted exactly once.
    fn accepted_and_dropped(&self) -> (u64, u64) {
        let buffers = lock(&self.buffers);
        let mut dropped = self.retired_dropped.load(Ordering::Acquire);
        for buffer in buffers.iter() {
            dropped += buffer.dropped.load(Ordering::Acquire);
        }
        let mut accepted = self.retired_accepted.load(Ordering::Acquire);
        for buffer in buffers.iter() {
            accepted += buffer.accepted.load(Ordering::Acquire);
        }
        (accepted, dropped)
    }

    /// The client has shut down: what is still pending is given up, as
    /// failed when the exporter did not finish in time (`timed_out`), else
    /// as dropped (recorded as the client closed). Returns how many.
    pub(crate) fn settle_all(&self, timed_out: bool) -> u64 {
        self.counters.close(|| self.accepted_and_dropped(), timed_out)
    }

    /// Asks the exporter to deliver everything handed over so far, waiting
    /// at most `flush_timeout`. (The caller hands over its own thread's
    /// buffer first.)
    pub(crate) fn flush(&self) -> Result<(), FlushError> {
        if self.is_closed() {
            return Err(FlushError::Closed);
        }
        self.request(Control::Flush, Instant::now() + self.config.flush_timeout).map(|_| ())
    }

    /// Flushes and asks the exporter to stop, within `flush_timeout`; later
    /// events are dropped. Returns whether the exporter answered (the
    /// caller then joins its thread: it is returning), and the outcome
    /// (`Ok` as well when the pipeline was already closed). When it
    /// returns, nothing is pending: what could not be delivered in time is
    /// given up, counted and reported.
    pub(crate) fn shutdown(&self) -> (bool, Result<(), FlushError>) {
        if self.closed.swap(true, Ordering::SeqCst) {
            return (false, Ok(()));
        }
        let timeout = self.config.flush_timeout;
        let now = Instant::now();
        // Delivery stops a little before the caller stops waiting, so that
        // the exporter has the time to count and to answer.
        self.deadline.set(now + timeout.mul_f64(0.8));
        let gave_up = |events| Err(FlushError::GaveUp { events, timeout });
        match self.request(Control::Shutdown, now + timeout) {
            Ok(given_up) => {
                // Anything left was recorded as the client closed.
                self.settle_all(false);
                (true, if given_up == 0 { Ok(()) } else { gave_up(given_up) })
            }
            Err(answer) => {
                // The exporter is stuck (or gone): what it holds is given up.
                let given_up = self.settle_all(true);
                if matches!(answer, FlushError::TimedOut(_)) || given_up > 0 {
                    crate::log::warn(format_args!(
                        "shutdown gave up {given_up} events: the sender did not finish within flush_timeout \
                         ({timeout:?}); is the collector that RACEWAY_ENDPOINT names up? RACEWAY_FLUSH_TIMEOUT \
                         sets how long shutdown waits"
                    ));
                    (false, gave_up(given_up))
                } else {
                    (false, Ok(()))
                }
            }
        }
    }

    fn request(&self, make: fn(Sender<u64>) -> Control, deadline: Instant) -> Result<u64, FlushError> {
        let (ack, done) = crossbeam_channel::bounded(1);
        if self.control.send(make(ack)).is_err() {
            return Err(FlushError::Closed);
        }
        match done.recv_deadline(deadline) {
            Ok(given_up) => Ok(given_up),
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => Err(FlushError::TimedOut(self.config.flush_timeout)),
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => Err(FlushError::Closed),
        }
    }

    /// How often the exporter collects idle buffers and ships partial batches.
    pub(crate) fn tick_interval(&self) -> Duration {
        self.config.flush_interval
    }
}

/// Executions whose end was dropped, kept for the exporter at most between
/// two of its collections. Beyond, the exporter keeps a small state for
/// each execution whose end it never learns.
const MAX_LOST_ENDS: usize = 65_536;

/// The same for the ends that free a component the analysis has yet to
/// retire (see `crate::retirement`): past [`MAX_LOST_ENDS`], up to this
/// many, since one that is not kept stays in the clocks for good.
const MAX_LOST_FREED: usize = 1 << 20;

/// Empties `lost`, a chunk the channel refused, and returns how many of
/// its records were events. What the records told the exporter about their
/// executions is gone too: those executions tell it again. (Only them: a
/// lost chunk costs the other threads nothing.) Executions that ended in
/// it are added to `lost_ends`, so that the exporter still forgets them.
/// One pass over the records, and a record that owns nothing is forgotten
/// rather than dropped: a thread that outruns the exporter does this for
/// most of its records.
/// The executions of a chunk, marked delivered (see
/// `crate::retirement::delivered`) once the channel took it: a few kept
/// until then; a chunk of more marks them all at once, before (which only
/// keeps some from retiring early).
#[derive(Default)]
struct Delivering {
    execs: [u64; 16],
    len: usize,
}

impl Delivering {
    fn note(&mut self, records: &[Record]) {
        let mut last = None;
        for record in records {
            if last == Some(record.exec) {
                continue;
            }
            last = Some(record.exec);
            if self.execs[..self.len].contains(&record.exec) {
                continue;
            }
            if self.len < self.execs.len() {
                self.execs[self.len] = record.exec;
                self.len += 1;
            } else {
                crate::retirement::delivered(record.exec);
            }
        }
    }

    fn mark(&self) {
        for &exec in &self.execs[..self.len] {
            crate::retirement::delivered(exec);
        }
    }
}

/// `retires`: the pipeline's analysis retires components, and an
/// execution that ended here with none of its records delivered retires
/// its component at once.
fn discard(lost: &mut Vec<Record>, lost_ends: &Mutex<Vec<(u64, Option<u64>)>>, retires: bool) -> u64 {
    let len = lost.len();
    let mut events = 0;
    let mut ends = None;
    // SAFETY: the length is set to 0 first, so the records are owned by this
    // loop alone and each is dropped at most once, even if a drop panics
    // (the rest then leak). A record that owns nothing needs no drop.
    unsafe {
        lost.set_len(0);
        for record in std::slice::from_raw_parts_mut(lost.as_mut_ptr(), len) {
            if record.is_exported() {
                events += 1;
            } else {
                let ends = ends.get_or_insert_with(|| lock(lost_ends));
                let freed = match record.kind {
                    crate::event::Kind::ExecEnd { freed } => freed,
                    _ => None,
                };
                // Only a slot that was its own from the start (no earlier
                // execution's remembered access can carry its component).
                let retired = retires
                    && freed.is_some_and(|component| {
                        component == record.exec && crate::retirement::ended_undelivered(record.exec, component)
                    });
                // A freed component that did not retire here waits for the
                // analysis's sweep: its end must reach it.
                let cap = if retires && freed.is_some() && !retired { MAX_LOST_FREED } else { MAX_LOST_ENDS };
                if ends.len() < cap {
                    ends.push((record.exec, freed));
                }
            }
            if let Some(delta) = &record.delta {
                delta.mark_lost();
            }
            if !record.owns_nothing() {
                std::ptr::drop_in_place(record);
            }
        }
    }
    events
}

/// A thread's attachment to one pipeline.
pub(crate) struct Outlet {
    pipeline: Arc<Pipeline>,
    buffer: Arc<PaddedBuffer>,
}

/// Where an execution's last events went: a thread's buffer, and how many
/// chunks that buffer had handed over then. An execution that moves to
/// another thread without saying so (a tokio task raceway did not start,
/// polled by another worker) hands over the buffer its earlier events are
/// still in before it records again, so that its events enter the channel
/// in program order.
#[cfg(any(feature = "tokio", feature = "http"))]
pub(crate) struct Written {
    pipeline: Arc<Pipeline>,
    buffer: Arc<PaddedBuffer>,
    handoffs: u64,
}

#[cfg(any(feature = "tokio", feature = "http"))]
impl Written {
    /// Hands over the marked buffer if the marked events are still in it.
    pub(crate) fn hand_off_if_unsent(&self) {
        if self.buffer.handoffs.load(Ordering::Acquire) != self.handoffs {
            return;
        }
        let mut records = self.buffer.records.lock();
        if self.buffer.handoffs.load(Ordering::Relaxed) == self.handoffs {
            self.pipeline.hand_off(&self.buffer, &mut records);
        }
    }
}

impl Outlet {
    /// Marks (in `mark`) that an execution's last events went to this
    /// thread's buffer; no reference count moves when the mark is already
    /// of this buffer.
    #[cfg(any(feature = "tokio", feature = "http"))]
    pub(crate) fn mark_written(&self, mark: &mut Option<Written>) {
        let handoffs = self.buffer.handoffs.load(Ordering::Relaxed);
        match mark {
            Some(w) if Arc::ptr_eq(&w.buffer, &self.buffer) => w.handoffs = handoffs,
            _ => *mark = Some(Written { pipeline: self.pipeline.clone(), buffer: self.buffer.clone(), handoffs }),
        }
    }

    /// Whether `mark` is of this thread's buffer.
    #[cfg(any(feature = "tokio", feature = "http"))]
    pub(crate) fn holds(&self, mark: &Written) -> bool {
        Arc::ptr_eq(&mark.buffer, &self.buffer)
    }

    pub(crate) fn attach(pipeline: &Arc<Pipeline>) -> Outlet {
        let buffer = Arc::new(CachePadded::new(ThreadBuffer::new(pipeline.chunk)));
        lock(&pipeline.buffers).push(buffer.clone());
        Outlet { pipeline: pipeline.clone(), buffer }
    }

    #[inline]
    pub(crate) fn is_for(&self, pipeline: &Arc<Pipeline>) -> bool {
        Arc::ptr_eq(&self.pipeline, pipeline)
    }

    /// Whether its pipeline's analysis retires components (see
    /// `crate::retirement`).
    pub(crate) fn retires(&self) -> bool {
        self.pipeline.retires
    }

    /// Whether its pipeline's executions continue the slots of ended
    /// executions that nobody joined (see `rt::slots`).
    pub(crate) fn reuses_slots(&self) -> bool {
        self.pipeline.reuses_slots
    }

    pub(crate) fn pipeline_id(&self) -> usize {
        self.pipeline.id
    }

    /// Appends the record that `build` makes, constructed in its slot of
    /// the buffer rather than moved there (a 128-byte value is otherwise
    /// copied at each step), then lets `finish` complete it in place.
    #[inline(always)]
    pub(crate) fn push(&self, build: impl FnOnce() -> Record, finish: impl FnOnce(&mut Record)) {
        let mut records = self.buffer.records.lock();
        records.reserve(1);
        let len = records.len();
        let record = records.spare_capacity_mut()[0].write(build());
        finish(record);
        let exported = record.is_exported();
        // SAFETY: `reserve(1)` made room for the slot at `len`, and `write`
        // initialized it. (Should `finish` unwind, the record is leaked,
        // never read.)
        unsafe { records.set_len(len + 1) };
        prefetch(&records, len + PREFETCH_AHEAD);
        ThreadBuffer::count(&self.buffer.accepted, u64::from(exported));
        if records.len() >= self.pipeline.chunk {
            self.pipeline.hand_off(&self.buffer, &mut records);
        }
    }

    pub(crate) fn hand_off(&self) {
        self.pipeline.hand_off(&self.buffer, &mut self.buffer.records.lock());
    }

    /// Hands over what is left and leaves the pipeline.
    pub(crate) fn detach(self) {
        let mut records = self.buffer.records.lock();
        self.pipeline.hand_off(&self.buffer, &mut records);
        // Under the list's lock, as the snapshots read: the counts move
        // from the live buffer to the retired ones at once.
        let mut buffers = lock(&self.pipeline.buffers);
        let accepted = self.buffer.accepted.swap(0, Ordering::Relaxed);
        let dropped = self.buffer.dropped.swap(0, Ordering::Relaxed);
        self.pipeline.retired_accepted.fetch_add(accepted, Ordering::Release);
        self.pipeline.retired_dropped.fetch_add(dropped, Ordering::Release);
        buffers.retain(|b| !Arc::ptr_eq(b, &self.buffer));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{ContextDelta, ExecInfo, Kind};

    #[test]
    fn a_discarded_chunk_counts_its_events_marks_lost_contexts_and_keeps_ends() {
        let owner = Arc::new(ExecInfo::new(1, "t".into(), 1, None));
        let delta = ContextDelta { owner: owner.clone(), announce: true, clock: None, hard: None, locks: None };
        let site = std::panic::Location::caller();
        let record = |exec, delta, kind| Record { ts: 0, exec, seq: 1, delta, kind };
        let mut lost = vec![
            record(1, Some(Box::new(delta)), Kind::AsyncAwait { awaited: 2, site }),
            record(1, None, Kind::AsyncSpawn { child: 2, site }),
            record(3, None, Kind::ExecEnd { freed: None }),
        ];
        let ends = Mutex::new(Vec::new());
        assert_eq!(discard(&mut lost, &ends, false), 2, "ends are not events");
        assert!(lost.is_empty());
        assert!(owner.context_lost.load(Ordering::Relaxed), "its context is sent again");
        assert_eq!(*lock(&ends), [(3, None)], "the exporter still learns that 3 ended");
    }

    #[test]
    fn an_execution_whose_records_were_all_dropped_retires_its_component_where_its_end_is_dropped() {
        // Executions and components far from those the other tests take.
        let (undelivered, delivered) = (2_100_000_001u64, 2_100_000_002u64);
        let site = std::panic::Location::caller();
        let record = |exec, kind| Record { ts: 0, exec, seq: 1, delta: None, kind };
        // `delivered` had a chunk taken by the channel before.
        let mut delivering = Delivering::default();
        delivering.note(&[record(delivered, Kind::AsyncSpawn { child: 9, site })]);
        delivering.mark();
        let mut lost = vec![
            record(undelivered, Kind::AsyncSpawn { child: 9, site }),
            record(undelivered, Kind::ExecEnd { freed: Some(undelivered) }),
            record(delivered, Kind::ExecEnd { freed: Some(delivered) }),
        ];
        let ends = Mutex::new(Vec::new());
        discard(&mut lost, &ends, true);
        assert!(crate::retirement::is_retired(undelivered), "nothing of it can reach an analysis");
        assert!(!crate::retirement::is_retired(delivered), "the analysis decides: it may remember an access");
        assert_eq!(*lock(&ends), [(undelivered, Some(undelivered)), (delivered, Some(delivered))]);
        // A reused slot (an earlier execution, joined, had it) waits for the
        // analysis, which may remember that execution's accesses.
        let (reuser, slot) = (2_100_000_003u64, 2_100_000_004u64);
        let mut lost = vec![record(reuser, Kind::ExecEnd { freed: Some(slot) })];
        discard(&mut lost, &ends, true);
        assert!(!crate::retirement::is_retired(slot));
    }

    /// Pushes a chunk of records, each carrying a context delta with a
    /// clock of `entries` entries.
    fn push_chunk(outlet: &Outlet, owner: &Arc<ExecInfo>, entries: u64) {
        let clock = Arc::new(crate::clock::VectorClock::from_entries((1..=entries).map(|c| (c, 1)).collect()));
        let site = std::panic::Location::caller();
        for _ in 0..MAX_CHUNK {
            let delta = ContextDelta {
                owner: owner.clone(),
                announce: false,
                clock: Some(clock.clone()),
                hard: None,
                locks: None,
            };
            outlet.push(
                || Record {
                    ts: 0,
                    exec: 1,
                    seq: 1,
                    delta: Some(Box::new(delta)),
                    kind: Kind::AsyncAwait { awaited: 2, site },
                },
                |_| {},
            );
        }
    }

    #[test]
    fn records_that_carry_large_clocks_fill_the_channel_by_their_weight() {
        let config = Config { channel_capacity: 16 * MAX_CHUNK, overflow: Some(Overflow::Drop), ..Config::default() };
        let (pipeline, outputs) = Pipeline::new(config);
        let outlet = Outlet::attach(&pipeline);
        let owner = Arc::new(ExecInfo::new(1, "t".into(), 1, None));
        // Light records: the channel's sixteen chunks, then a drop.
        for _ in 0..17 {
            push_chunk(&outlet, &owner, 0);
        }
        let stats = pipeline.stats();
        assert_eq!((stats.accepted, stats.dropped), (17 * 64, 64), "the channel's bound in records, as before");
        let mut taken = 0;
        while let Ok(Chunk(records, weight)) = outputs.data.try_recv() {
            assert_eq!(weight, records.len(), "a record without a clock weighs one");
            pipeline.taken(weight);
            taken += 1;
        }
        assert_eq!(taken, 16);
        // Heavy ones (a clock of 8,000 entries weighs 1,000 records): the
        // first chunk goes through alone, the next is over the bound of
        // four records per record of capacity, although the channel has
        // room.
        push_chunk(&outlet, &owner, 8_000);
        push_chunk(&outlet, &owner, 8_000);
        let stats = pipeline.stats();
        assert_eq!((stats.accepted, stats.dropped), (19 * 64, 2 * 64), "{stats}");
        assert_eq!(outputs.data.len(), 1);
        assert!(owner.context_lost.load(Ordering::Relaxed), "the dropped deltas are sent again");
        // Taken by the exporter, the weight leaves the bound.
        let Chunk(_, weight) = outputs.data.try_recv().unwrap();
        assert_eq!(weight, 64 * 1_001);
        pipeline.taken(weight);
        push_chunk(&outlet, &owner, 8_000);
        assert_eq!(pipeline.stats().dropped, 2 * 64);
        assert_eq!(outputs.data.len(), 1);
    }

    #[test]
    fn with_block_a_recorder_over_the_weight_bound_waits_for_the_exporter() {
        let config = Config { channel_capacity: 16 * MAX_CHUNK, overflow: Some(Overflow::Block), ..Config::default() };
        let (pipeline, outputs) = Pipeline::new(config);
        let owner = Arc::new(ExecInfo::new(1, "t".into(), 1, None));
        let outlet = Outlet::attach(&pipeline);
        push_chunk(&outlet, &owner, 8_000);
        std::thread::scope(|s| {
            let recorder = s.spawn(|| {
                let outlet = Outlet::attach(&pipeline);
                push_chunk(&outlet, &owner, 8_000);
            });
            // The recorder waits for room (the first chunk weighs the
            // bound many times over): then the exporter takes that chunk.
            while pipeline.waiting.load(Ordering::SeqCst) == 0 {
                std::thread::yield_now();
            }
            let Chunk(_, weight) = outputs.data.recv().unwrap();
            pipeline.taken(weight);
            pipeline.made_room();
            recorder.join().unwrap();
        });
        let stats = pipeline.stats();
        assert_eq!((stats.accepted, stats.dropped), (2 * 64, 0), "{stats}");
        assert_eq!(outputs.data.len(), 1, "the waiting chunk went in");
    }
}
