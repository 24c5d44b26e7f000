//! Delivery to a Raceway server: `POST {endpoint}/events`.
//!
//! Each event is serialized on its own into the batch body, so an event that
//! cannot be serialized is dropped alone and never costs its neighbours a
//! 422. Transient failures (connection refused or reset, timeouts, 5xx, 429,
//! 408) are retried with capped exponential backoff from a bounded retry
//! buffer; other 4xx answers are logged once per status with the server's
//! message and not retried.

use super::Sink;
use crate::config::{Config, ConfigError};
use crate::log::warn;
use crate::stats::Counters;
use crate::wire::Event;
use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// The part of a server's error message that is logged.
const MAX_LOGGED_BODY: usize = 512;

/// A serialized batch waiting for delivery.
struct Batch {
    body: bytes::Bytes,
    events: usize,
    attempts: u32,
}

enum Outcome {
    Delivered,
    Transient(String),
    Rejected(u16, String),
}

pub(super) struct HttpSink {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    url: String,
    api_key: Option<String>,
    queue: VecDeque<Batch>,
    queued_events: usize,
    retry_buffer: usize,
    backoff: Duration,
    next_attempt: Option<Instant>,
    logged_statuses: HashSet<u16>,
    debug: bool,
    body: Vec<u8>,
}

impl HttpSink {
    pub(super) fn new(endpoint: &str, config: &Config) -> Result<HttpSink, ConfigError> {
        // The sender runs on its own thread with its own single-threaded
        // runtime, so it works whether or not the host uses tokio.
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| {
            ConfigError::field("RACEWAY_ENDPOINT", "endpoint", endpoint, format!("cannot start the HTTP sender: {e}"))
        })?;
        let client = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout)
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(30))
            .user_agent(concat!("raceway-rust/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                ConfigError::field(
                    "RACEWAY_ENDPOINT",
                    "endpoint",
                    endpoint,
                    format!("cannot build the HTTP client: {e}"),
                )
            })?;
        Ok(HttpSink {
            runtime,
            client,
            url: format!("{endpoint}/events"),
            api_key: config.api_key.clone(),
            queue: VecDeque::new(),
            queued_events: 0,
            retry_buffer: config.retry_buffer.max(config.batch_size),
            backoff: FIRST_BACKOFF,
            next_attempt: None,
            logged_statuses: HashSet::new(),
            debug: config.debug,
            body: Vec::with_capacity(1 << 16),
        })
    }

    /// Serializes `events` into one batch body, skipping any event that fails.
    fn encode(&mut self, events: &[Event], counters: &Counters) -> Batch {
        let body = &mut self.body;
        body.clear();
        body.extend_from_slice(b"{\"events\":[");
        let mut count = 0;
        for event in events {
            let mark = body.len();
            if count > 0 {
                body.push(b',');
            }
            if crate::wire::write_event(body, event).is_ok() {
                count += 1;
            } else {
                body.truncate(mark);
                Counters::add(&counters.failed, 1);
            }
        }
        body.extend_from_slice(b"]}");
        Batch { body: bytes::Bytes::copy_from_slice(body), events: count, attempts: 0 }
    }

    fn post(&self, body: bytes::Bytes) -> Outcome {
        let mut request = self.client.post(&self.url).header("content-type", "application/json").body(body);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key).header("x-raceway-key", key);
        }
        self.runtime.block_on(async {
            match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    if status.is_success() {
                        return Outcome::Delivered;
                    }
                    let text = response.text().await.unwrap_or_default();
                    let text: String = text.chars().take(MAX_LOGGED_BODY).collect();
                    let code = status.as_u16();
                    if status.is_server_error() || code == 429 || code == 408 {
                        Outcome::Transient(format!("server answered {status}: {text}"))
                    } else {
                        Outcome::Rejected(code, text)
                    }
                }
                // Connection refused or reset, timeouts, broken bodies: all
                // worth another try.
                Err(e) => Outcome::Transient(describe(&e)),
            }
        })
    }

    /// Tries the waiting batches in order until one fails transiently.
    fn deliver(&mut self, counters: &Counters, force: bool) {
        while let Some(front) = self.queue.front_mut() {
            if !force && self.next_attempt.is_some_and(|at| Instant::now() < at) {
                return;
            }
            if front.attempts > 0 {
                Counters::add(&counters.retried, 1);
            }
            front.attempts += 1;
            let body = front.body.clone();
            match self.post(body) {
                Outcome::Delivered => {
                    let batch = self.pop();
                    Counters::add(&counters.sent, batch.events);
                    self.backoff = FIRST_BACKOFF;
                    self.next_attempt = None;
                }
                Outcome::Rejected(status, message) => {
                    let batch = self.pop();
                    Counters::add(&counters.failed, batch.events);
                    if self.logged_statuses.insert(status) || self.debug {
                        warn(format_args!(
                            "{} rejected a batch of {} events with status {status}; not retrying: {message}",
                            self.url, batch.events
                        ));
                    }
                }
                Outcome::Transient(reason) => {
                    if self.debug {
                        warn(format_args!(
                            "delivery to {} failed, will retry in {:?}: {reason}",
                            self.url, self.backoff
                        ));
                    }
                    self.next_attempt = Some(Instant::now() + self.backoff);
                    self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                    return;
                }
            }
        }
    }

    fn pop(&mut self) -> Batch {
        let batch = self.queue.pop_front().expect("caller checked that the queue is not empty");
        self.queued_events -= batch.events;
        batch
    }
}

fn describe(error: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = if error.is_timeout() {
        "timed out".to_string()
    } else if error.is_connect() {
        "could not connect".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl Sink for HttpSink {
    fn submit(&mut self, events: Vec<Event>, counters: &Counters) {
        let batch = self.encode(&events, counters);
        if batch.events == 0 {
            return;
        }
        self.queued_events += batch.events;
        self.queue.push_back(batch);
        // The retry buffer is bounded: give up the oldest waiting batches.
        while self.queued_events > self.retry_buffer && self.queue.len() > 1 {
            let lost = self.pop();
            Counters::add(&counters.dropped, lost.events);
        }
        self.deliver(counters, false);
    }

    fn pump(&mut self, counters: &Counters, force: bool) {
        self.deliver(counters, force);
    }

    fn close(&mut self, counters: &Counters, deadline: Instant) {
        loop {
            self.deliver(counters, true);
            let now = Instant::now();
            if self.queue.is_empty() || now >= deadline {
                break;
            }
            let wait = self.next_attempt.map_or(Duration::ZERO, |at| at.saturating_duration_since(now));
            std::thread::sleep(wait.min(deadline - now));
        }
        if self.queued_events > 0 {
            warn(format_args!(
                "giving up {} events that could not be delivered to {} before shutdown",
                self.queued_events, self.url
            ));
            Counters::add(&counters.failed, self.queued_events);
            self.queue.clear();
            self.queued_events = 0;
        }
    }

    fn wake_at(&self) -> Option<Instant> {
        self.next_attempt.filter(|_| !self.queue.is_empty())
    }
}
