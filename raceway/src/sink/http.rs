//! Delivery to a Raceway server: `POST {endpoint}/events`.
//!
//! Each event is serialized on its own into the batch body, so an event that
//! cannot be serialized is dropped alone and never costs its neighbours a
//! 422. Batches are capped in bytes (`max_batch_bytes`) as well as in
//! events: a batch that would grow past the cap is split, and an event that
//! alone exceeds it is dropped and counted, so that the server never
//! answers 413 for the SDK's batch size (should a server's limit be lower
//! still, a batch it answers 413 is split in halves and sent again).
//!
//! What the server's answer means:
//!
//! - 2xx: delivered, unless the answer reports per-event errors: `206`, or
//!   a body such as `{"data":"Ingested 0 events, 50 errors"}` (the Raceway
//!   server's queue is full). Then the rejected events are counted failed
//!   (not sent, and not sent again: the server stored the others), the
//!   server's message is logged once, and delivery backs off.
//! - Connection refused or reset, timeouts, 5xx, 429, 408: retried with
//!   capped exponential backoff from a bounded retry buffer; a `Retry-After`
//!   (seconds or HTTP-date) sets the wait instead, capped by the backoff
//!   maximum, and even a flush waits for it.
//! - 401 and 403: the key is wrong or missing; logged once, naming
//!   `RACEWAY_API_KEY`, and not retried. Other 4xx: logged once per status
//!   with the server's message, and not retried.
//!
//! Delivery is at least once: a batch that the server stored but whose
//! answer did not arrive in time (a timeout, a reset connection) is sent
//! again, and the server, which does not de-duplicate, stores it twice.
//!
//! Credentials never reach a log line: the API key is only ever put in
//! headers, and the user and password of the endpoint URL are taken out of
//! it (sent as HTTP basic authentication) and shown as `<redacted>`.

use super::{Deadline, Sink};
use crate::config::{redact_url, Config, ConfigError};
use crate::log::warn;
use crate::stats::Counters;
use crate::wire::Event;
use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::ops::Range;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant, SystemTime};

const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait between two attempts, `Retry-After` included.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// The shortest wait after the server reported per-event errors: its queue
/// is full, and drains at about 1,000 events per second.
const QUEUE_FULL_BACKOFF: Duration = Duration::from_secs(1);
/// The part of a server's error message that is logged.
const MAX_LOGGED_BODY: usize = 512;
/// `{"events":[` and `]}`.
const ENVELOPE: usize = 13;

/// A serialized batch waiting for delivery: the body, and where each event
/// is in it (so that a batch answered 413 can be split).
struct Batch {
    body: bytes::Bytes,
    events: Vec<Range<usize>>,
    attempts: u32,
}

impl Batch {
    fn len(&self) -> usize {
        self.events.len()
    }

    /// The two halves of this batch, as batches of their own.
    fn split(&self) -> (Batch, Batch) {
        let half = self.events.len() / 2;
        let part = |events: &[Range<usize>]| {
            let mut builder = BatchBuilder::default();
            for range in events {
                builder.push(&self.body[range.clone()]);
            }
            builder.finish()
        };
        (part(&self.events[..half]), part(&self.events[half..]))
    }
}

/// A batch body being built.
#[derive(Default)]
struct BatchBuilder {
    body: Vec<u8>,
    events: Vec<Range<usize>>,
}

impl BatchBuilder {
    /// The body's size with `event` added.
    fn size_with(&self, event: &[u8]) -> usize {
        // `{"events":[` or the body so far and a comma; the event; `]}`.
        let before = if self.body.is_empty() { ENVELOPE - 2 } else { self.body.len() + 1 };
        before + event.len() + 2
    }

    fn push(&mut self, event: &[u8]) {
        if self.body.is_empty() {
            self.body.extend_from_slice(b"{\"events\":[");
        } else {
            self.body.push(b',');
        }
        let start = self.body.len();
        self.body.extend_from_slice(event);
        self.events.push(start..self.body.len());
    }

    fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    fn finish(mut self) -> Batch {
        self.body.extend_from_slice(b"]}");
        Batch { body: self.body.into(), events: self.events, attempts: 0 }
    }
}

enum Outcome {
    Delivered,
    /// A 2xx that reports per-event errors: how many (when it says), and
    /// the server's message.
    Partial(u16, Option<usize>, String),
    Transient(String, Option<Duration>),
    TooLarge(String),
    Rejected(u16, String),
}

pub(super) struct HttpSink {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    /// `{endpoint}/events`, without the user and password.
    url: String,
    /// The endpoint as logs show it.
    shown: String,
    credentials: Option<(String, Option<String>)>,
    api_key: Option<String>,
    queue: VecDeque<Batch>,
    queued_events: usize,
    retry_buffer: usize,
    max_batch_bytes: usize,
    request_timeout: Duration,
    flush_timeout: Duration,
    backoff: Duration,
    /// The next attempt, after a transient failure; a flush tries earlier.
    next_attempt: Option<Instant>,
    /// No attempt before this, not even for a flush: the server asked
    /// (`Retry-After`, or a full queue).
    hold_until: Option<Instant>,
    /// The last transient failure, for the shutdown message.
    last_problem: Option<String>,
    deadline: Arc<Deadline>,
    logged: HashSet<String>,
    debug: bool,
    scratch: Vec<u8>,
}

/// The user and password of `endpoint`, and the URL without them.
fn split_credentials(endpoint: &str) -> (String, Option<(String, Option<String>)>) {
    let Some((scheme, rest)) = endpoint.split_once("://") else {
        return (endpoint.to_string(), None);
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return (endpoint.to_string(), None);
    };
    let (user, password) = match rest[..at].split_once(':') {
        Some((user, password)) => (percent_decode(user), Some(percent_decode(password))),
        None => (percent_decode(&rest[..at]), None),
    };
    (format!("{scheme}://{}", &rest[at + 1..]), Some((user, password)))
}

/// `%XX` sequences decoded (userinfo is percent-encoded in a URL).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl HttpSink {
    pub(super) fn new(endpoint: &str, config: &Config, deadline: Arc<Deadline>) -> Result<HttpSink, ConfigError> {
        let shown = redact_url(endpoint).into_owned();
        // The sender runs on its own thread with its own single-threaded
        // runtime, so it works whether or not the host uses tokio.
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| {
            ConfigError::field("RACEWAY_ENDPOINT", "endpoint", &shown, format!("cannot start the HTTP sender: {e}"))
        })?;
        let client = reqwest::Client::builder()
            .connect_timeout(config.request_timeout)
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(30))
            .user_agent(concat!("raceway-rust/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                ConfigError::field("RACEWAY_ENDPOINT", "endpoint", &shown, format!("cannot build the HTTP client: {e}"))
            })?;
        let (endpoint, credentials) = split_credentials(endpoint);
        Ok(HttpSink {
            runtime,
            client,
            url: format!("{endpoint}/events"),
            shown: format!("{shown}/events"),
            credentials,
            api_key: config.api_key.clone(),
            queue: VecDeque::new(),
            queued_events: 0,
            retry_buffer: config.retry_buffer.max(config.batch_size),
            max_batch_bytes: config.max_batch_bytes,
            request_timeout: config.request_timeout,
            flush_timeout: config.flush_timeout,
            backoff: FIRST_BACKOFF,
            next_attempt: None,
            hold_until: None,
            last_problem: None,
            deadline,
            logged: HashSet::new(),
            debug: config.debug,
            scratch: Vec::with_capacity(1 << 12),
        })
    }

    /// Serializes `events` into batches within `max_batch_bytes`, skipping
    /// (and counting) any event that fails to serialize or alone exceeds it.
    fn encode(&mut self, events: &[Event], counters: &Counters) -> Vec<Batch> {
        let mut batches = Vec::new();
        let mut builder = BatchBuilder::default();
        builder.body.reserve(self.max_batch_bytes.min(1 << 16));
        for event in events {
            self.scratch.clear();
            if crate::wire::write_event(&mut self.scratch, event).is_err() {
                counters.failed(1);
                continue;
            }
            if ENVELOPE + self.scratch.len() > self.max_batch_bytes {
                counters.dropped(1);
                let (size, cap) = (self.scratch.len(), self.max_batch_bytes);
                warn_once(
                    &mut self.logged,
                    self.debug,
                    "event-too-large",
                    format_args!(
                        "dropped a {} event of {size} bytes: alone it exceeds max_batch_bytes ({cap} bytes, \
                         RACEWAY_MAX_BATCH_BYTES); lower max_value_bytes (RACEWAY_MAX_VALUE_BYTES) to truncate \
                         large values",
                        event.kind_name()
                    ),
                );
                continue;
            }
            if !builder.is_empty() && builder.size_with(&self.scratch) > self.max_batch_bytes {
                batches.push(std::mem::take(&mut builder).finish());
            }
            builder.push(&self.scratch);
        }
        if !builder.is_empty() {
            batches.push(builder.finish());
        }
        batches
    }

    /// One attempt, bounded by `request_timeout` and, once the client shuts
    /// down, by the shutdown deadline (a request in flight is cut short).
    fn post(&self, body: bytes::Bytes) -> Outcome {
        let mut request = self.client.post(&self.url).header("content-type", "application/json").body(body);
        // One `Authorization`: the API key's, else the URL's user and
        // password.
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key).header("x-raceway-key", key);
        } else if let Some((user, password)) = &self.credentials {
            request = request.basic_auth(user, password.as_ref());
        }
        let deadline = self.deadline.clone();
        let timeout = self.request_timeout;
        self.runtime.block_on(async move {
            let exchange = async {
                let response = request.send().await?;
                let status = response.status();
                let retry_after = response.headers().get(reqwest::header::RETRY_AFTER).and_then(retry_after);
                let text = response.text().await.unwrap_or_default();
                Ok::<_, reqwest::Error>((status, retry_after, text))
            };
            let exchange = tokio::time::timeout(timeout, exchange);
            let shutdown = async {
                let at = deadline.when_set().await;
                tokio::time::sleep_until(at.into()).await;
            };
            let (mut exchange, mut shutdown) = (std::pin::pin!(exchange), std::pin::pin!(shutdown));
            let answer = std::future::poll_fn(|cx| {
                if let Poll::Ready(answer) = exchange.as_mut().poll(cx) {
                    return Poll::Ready(Some(answer));
                }
                shutdown.as_mut().poll(cx).map(|()| None)
            })
            .await;
            let (status, retry_after, text) = match answer {
                None => return Outcome::Transient("cut short at shutdown: flush_timeout ran out".into(), None),
                Some(Err(_)) => return Outcome::Transient(format!("timed out after {timeout:?}"), None),
                Some(Ok(Err(e))) => return Outcome::Transient(describe(&e), None),
                Some(Ok(Ok(answer))) => answer,
            };
            let text: String = text.chars().take(MAX_LOGGED_BODY).collect();
            let code = status.as_u16();
            if status.is_success() {
                let errors = reported_errors(&text);
                return match (code, errors) {
                    (206, _) => Outcome::Partial(code, errors, text),
                    (_, Some(n)) if n > 0 => Outcome::Partial(code, errors, text),
                    _ => Outcome::Delivered,
                };
            }
            if status.is_server_error() || code == 429 || code == 408 {
                Outcome::Transient(format!("server answered {status}: {text}"), retry_after)
            } else if code == 413 {
                Outcome::TooLarge(text)
            } else {
                Outcome::Rejected(code, text)
            }
        })
    }

    /// Whether no attempt may start now.
    fn waiting(&self, now: Instant, force: bool) -> bool {
        self.hold_until.is_some_and(|at| now < at) || (!force && self.next_attempt.is_some_and(|at| now < at))
    }

    /// Waits `delay` (at most [`MAX_BACKOFF`]) before the next attempt;
    /// `hold`: even a flush waits.
    fn back_off(&mut self, delay: Option<Duration>, hold: bool) {
        let now = Instant::now();
        let wait = delay.unwrap_or(self.backoff).min(MAX_BACKOFF);
        self.next_attempt = Some(now + wait);
        if hold {
            self.hold_until = Some(now + wait);
        }
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
    }

    /// Tries the waiting batches in order until one fails transiently.
    fn deliver(&mut self, counters: &Counters, force: bool) {
        while !self.queue.is_empty() {
            let now = Instant::now();
            if self.waiting(now, force) || self.deadline.get().is_some_and(|at| now >= at) {
                return;
            }
            let front = self.queue.front_mut().expect("not empty");
            if front.attempts > 0 {
                counters.retried();
            }
            front.attempts += 1;
            let body = front.body.clone();
            match self.post(body) {
                Outcome::Delivered => {
                    let batch = self.pop();
                    counters.sent(batch.len());
                    self.backoff = FIRST_BACKOFF;
                    self.next_attempt = None;
                    self.hold_until = None;
                }
                Outcome::Partial(status, errors, message) => {
                    let batch = self.pop();
                    let failed = errors.unwrap_or(batch.len()).min(batch.len());
                    counters.sent(batch.len() - failed);
                    counters.failed(failed);
                    let wait = self.backoff.max(QUEUE_FULL_BACKOFF);
                    warn_once(
                        &mut self.logged,
                        self.debug,
                        "partial",
                        format_args!(
                            "{} stored only part of a batch of {} events (status {status}: {message:?}): {failed} \
                             counted failed, not sent again; backing off {wait:?} (the server's queue is full)",
                            self.shown,
                            batch.len()
                        ),
                    );
                    self.back_off(Some(wait), true);
                    return;
                }
                Outcome::TooLarge(message) if self.queue.front().is_some_and(|b| b.len() > 1) => {
                    let batch = self.pop();
                    let (first, second) = batch.split();
                    let (events, bytes, cap) = (batch.len(), batch.body.len(), self.max_batch_bytes);
                    warn_once(
                        &mut self.logged,
                        self.debug,
                        "413",
                        format_args!(
                            "{} answered 413 to a batch of {events} events ({bytes} bytes): its limit is below \
                             max_batch_bytes ({cap} bytes, RACEWAY_MAX_BATCH_BYTES); splitting the batch: {message}",
                            self.shown
                        ),
                    );
                    self.queued_events += events;
                    self.queue.push_front(second);
                    self.queue.push_front(first);
                }
                Outcome::TooLarge(message) => {
                    let batch = self.pop();
                    counters.failed(batch.len());
                    warn_once(
                        &mut self.logged,
                        self.debug,
                        "413-single",
                        format_args!(
                            "{} answered 413 to a single event of {} bytes; not retrying (lower max_batch_bytes, \
                             RACEWAY_MAX_BATCH_BYTES, or max_value_bytes, RACEWAY_MAX_VALUE_BYTES): {message}",
                            self.shown,
                            batch.body.len()
                        ),
                    );
                }
                Outcome::Rejected(status, message) => {
                    let batch = self.pop();
                    counters.failed(batch.len());
                    let hint = match (status, &self.api_key) {
                        (401 | 403, Some(_)) => "; the server refused the API key: check RACEWAY_API_KEY",
                        (401 | 403, None) => "; the server wants an API key: set RACEWAY_API_KEY",
                        _ => "",
                    };
                    warn_once(
                        &mut self.logged,
                        self.debug,
                        &status.to_string(),
                        format_args!(
                            "{} rejected a batch of {} events with status {status}; not retrying{hint}: {message}",
                            self.shown,
                            batch.len()
                        ),
                    );
                }
                Outcome::Transient(reason, retry_after) => {
                    let wait = retry_after.unwrap_or(self.backoff).min(MAX_BACKOFF);
                    if self.debug {
                        warn(format_args!("delivery to {} failed, will retry in {wait:?}: {reason}", self.shown));
                    }
                    self.last_problem = Some(reason);
                    self.back_off(retry_after, retry_after.is_some());
                    return;
                }
            }
        }
    }

    fn pop(&mut self) -> Batch {
        let batch = self.queue.pop_front().expect("caller checked that the queue is not empty");
        self.queued_events -= batch.len();
        batch
    }
}

/// How many events an answer says were not stored: the Raceway server's
/// `{"data":"Ingested 0 events, 50 errors"}`, or an `errors` count.
/// Logs `message` once per `key` (every time in debug mode).
fn warn_once(logged: &mut HashSet<String>, debug: bool, key: &str, message: std::fmt::Arguments<'_>) {
    if logged.insert(key.to_string()) || debug {
        warn(message);
    }
}

fn reported_errors(text: &str) -> Option<usize> {
    let json: serde_json::Value = serde_json::from_str(text).ok()?;
    if let Some(n) = json.get("errors").and_then(serde_json::Value::as_u64) {
        return usize::try_from(n).ok();
    }
    let data = json.get("data")?.as_str()?;
    // "…, 50 errors": the number before the word.
    let at = data.find(" error")?;
    let digits = data[..at].trim_end();
    let start = digits.rfind(|c: char| !c.is_ascii_digit()).map_or(0, |i| i + 1);
    digits[start..].parse().ok()
}

/// A `Retry-After` value: delay-seconds or an HTTP-date.
fn retry_after(value: &reqwest::header::HeaderValue) -> Option<Duration> {
    let value = value.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
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
        text.push_str(&redact_url(&cause.to_string()));
        source = cause.source();
    }
    text
}

impl Sink for HttpSink {
    fn submit(&mut self, events: Vec<Event>, counters: &Counters) {
        for batch in self.encode(&events, counters) {
            self.queued_events += batch.len();
            self.queue.push_back(batch);
        }
        // The retry buffer is bounded: give up the oldest waiting batches.
        while self.queued_events > self.retry_buffer && self.queue.len() > 1 {
            let lost = self.pop();
            counters.dropped(lost.len());
        }
        self.deliver(counters, false);
    }

    fn pump(&mut self, counters: &Counters, force: bool) {
        self.deliver(counters, force);
    }

    fn close(&mut self, counters: &Counters, deadline: Instant) -> u64 {
        loop {
            self.deliver(counters, true);
            let now = Instant::now();
            if self.queue.is_empty() || now >= deadline {
                break;
            }
            // The next attempt the server allows, or the end.
            let at = [self.next_attempt, self.hold_until].into_iter().flatten().max().unwrap_or(now);
            std::thread::sleep(at.min(deadline).saturating_duration_since(now));
        }
        let given_up = self.queued_events;
        if given_up > 0 {
            let problem = self.last_problem.take().map(|p| format!(" (last attempt: {p})")).unwrap_or_default();
            warn(format_args!(
                "shutdown gave up {given_up} events that could not be delivered to {} within flush_timeout \
                 ({:?}){problem}; is the Raceway server that RACEWAY_ENDPOINT names up? RACEWAY_FLUSH_TIMEOUT sets \
                 how long shutdown waits",
                self.shown, self.flush_timeout
            ));
            counters.failed(given_up);
            self.queue.clear();
            self.queued_events = 0;
        }
        given_up as u64
    }

    fn wake_at(&self) -> Option<Instant> {
        if self.queue.is_empty() {
            return None;
        }
        [self.next_attempt, self.hold_until].into_iter().flatten().max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_event_errors_are_read_from_the_answer() {
        assert_eq!(reported_errors(r#"{"success":true,"data":"Ingested 0 events, 50 errors","error":null}"#), Some(50));
        assert_eq!(reported_errors(r#"{"success":true,"data":"Ingested 13 events, 1 error"}"#), Some(1));
        assert_eq!(reported_errors(r#"{"success":true,"data":"Ingested 50 events","error":null}"#), None);
        assert_eq!(reported_errors(r#"{"errors":3}"#), Some(3));
        assert_eq!(reported_errors("not json"), None);
    }

    #[test]
    fn credentials_are_taken_out_of_the_url() {
        assert_eq!(
            split_credentials("http://user:p%40ss@host:8080"),
            ("http://host:8080".to_string(), Some(("user".to_string(), Some("p@ss".to_string()))))
        );
        assert_eq!(split_credentials("http://token@host"), ("http://host".to_string(), Some(("token".into(), None))));
        assert_eq!(split_credentials("http://host/a@b"), ("http://host/a@b".to_string(), None));
    }

    #[test]
    fn a_split_batch_holds_the_same_events() {
        let mut builder = BatchBuilder::default();
        for event in [&b"{\"a\":1}"[..], b"{\"b\":2}", b"{\"c\":3}"] {
            let predicted = builder.size_with(event);
            builder.push(event);
            assert_eq!(predicted, builder.body.len() + 2, "the body's size once closed");
        }
        let batch = builder.finish();
        assert_eq!(&batch.body[..], br#"{"events":[{"a":1},{"b":2},{"c":3}]}"#);
        let (first, second) = batch.split();
        assert_eq!(&first.body[..], br#"{"events":[{"a":1}]}"#);
        assert_eq!(&second.body[..], br#"{"events":[{"b":2},{"c":3}]}"#);
    }
}
