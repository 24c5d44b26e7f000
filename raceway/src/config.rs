//! Configuration: the fields users of the other Raceway SDKs know, read from
//! code or from `RACEWAY_*` environment variables.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// How a [`RacewayClient`](crate::RacewayClient) is set up.
///
/// Build one with [`Config::default`] and struct-update syntax, or with
/// [`Config::from_env`]. Fields may be added in minor releases: build
/// configurations with `..Config::default()`. Every field is public so that a configuration can be
/// inspected and adjusted after reading the environment.
///
/// | field | default | environment variable |
/// |---|---|---|
/// | `endpoint` | none: the embedded analyzer | `RACEWAY_ENDPOINT` |
/// | `service_name` | `"unknown-service"` | `RACEWAY_SERVICE_NAME` |
/// | `instance_id` | `<hostname>-<pid>` | `RACEWAY_INSTANCE_ID` |
/// | `environment` | `$ENV`, else `"development"` | `RACEWAY_ENV` |
/// | `api_key` | none | `RACEWAY_API_KEY` |
/// | `batch_size` | 50 | `RACEWAY_BATCH_SIZE` |
/// | `flush_interval` | 1 s | `RACEWAY_FLUSH_INTERVAL` (seconds, fractional allowed) |
/// | `debug` | false | `RACEWAY_DEBUG` |
/// | `channel_capacity` | 65 536 events | `RACEWAY_CHANNEL_CAPACITY` |
/// | `request_timeout` | 10 s | `RACEWAY_REQUEST_TIMEOUT` (seconds) |
/// | `flush_timeout` | 5 s | `RACEWAY_FLUSH_TIMEOUT` (seconds) |
/// | `retry_buffer` | 10 000 events | `RACEWAY_RETRY_BUFFER` |
/// | `embedded_capacity` | 100 000 events | `RACEWAY_EMBEDDED_CAPACITY` |
/// | `predict` | `true` | `RACEWAY_PREDICT` |
/// | `max_batch_bytes` | 1 MiB | `RACEWAY_MAX_BATCH_BYTES` |
/// | `max_value_bytes` | 64 KiB | `RACEWAY_MAX_VALUE_BYTES` |
///
/// Credentials never appear in `Debug` or `Display` output, logs or errors:
/// the API key, and the user and password of an endpoint URL
/// (`http://user:password@host`), are shown as `<redacted>`.
#[derive(Clone, PartialEq)]
pub struct Config {
    /// Where events go. `None` keeps everything in process (the embedded
    /// collector and analyzer). `http://` or `https://` URLs name a Raceway
    /// server (events are POSTed to `{endpoint}/events`); `file:///path`
    /// writes JSON lines, one event per line.
    pub endpoint: Option<Endpoint>,
    /// The name of this service, as shown by the Raceway server.
    pub service_name: String,
    /// Identifies this process among the instances of the service.
    pub instance_id: String,
    /// Deployment environment, e.g. `production`.
    pub environment: String,
    /// Sent as `Authorization: Bearer <key>` and `X-Raceway-Key: <key>`.
    pub api_key: Option<String>,
    /// Largest number of events in one delivered batch.
    pub batch_size: usize,
    /// A partial batch is delivered at the latest this long after it started.
    pub flush_interval: Duration,
    /// Print delivery diagnostics and counters to stderr.
    pub debug: bool,
    /// Capacity of the hand-off from the instrumented threads to the
    /// background sender, in events. When it is full, events are dropped and
    /// counted; the instrumented program never waits.
    pub channel_capacity: usize,
    /// Timeout of one HTTP delivery attempt.
    pub request_timeout: Duration,
    /// How long [`flush`](crate::RacewayClient::flush) and
    /// [`shutdown`](crate::RacewayClient::shutdown) wait for delivery.
    /// Shutdown returns within it even when the collector is down, and says
    /// how many events it gave up.
    pub flush_timeout: Duration,
    /// Events kept for retry while the server is unreachable; beyond it the
    /// oldest waiting batch is given up and counted as dropped.
    pub retry_buffer: usize,
    /// What a recording thread does when the hand-off channel is full:
    /// drop the events and count them, or wait for room. `None` chooses by
    /// endpoint: [`Overflow::Block`] for a `file://` endpoint (a CI run
    /// analyzed later wants every event), [`Overflow::Drop`] otherwise.
    /// `raceway::check` always blocks. `RACEWAY_OVERFLOW=drop|block`.
    pub overflow: Option<Overflow>,
    /// Events the embedded collector retains for inspection
    /// ([`RacewayClient::collected_events`](crate::RacewayClient::collected_events));
    /// older ones are discarded first.
    pub embedded_capacity: usize,
    /// Whether the embedded analysis (and `raceway::check`, which reads
    /// `RACEWAY_PREDICT` itself) also reports the races that a feasible
    /// reordering of the run exhibits, when they did not happen
    /// ([`Race::is_predicted`](crate::Race::is_predicted)). `RACEWAY_PREDICT=0`
    /// turns it off: then only interleavings that happened are reported.
    pub predict: bool,
    /// Largest body of one HTTP delivery, in bytes of serialized JSON
    /// (the Raceway server answers 413 above 2 MiB). Batches are split to
    /// stay within it; an event that alone exceeds it is dropped and
    /// counted, never sent.
    pub max_batch_bytes: usize,
    /// Largest recorded value (a state change's old or new value, call
    /// arguments, a return value, a body), in bytes of JSON text (strings:
    /// their UTF-8 length). A longer one is truncated, and ends with a
    /// marker that says so and how long it was.
    pub max_value_bytes: usize,
}

/// What a recording thread does when the hand-off to the background thread
/// is full ([`Config::overflow`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Overflow {
    /// Drop the events and count them (`stats().dropped`, and the report
    /// says so): the program never waits for raceway.
    Drop,
    /// Wait until the background thread has made room: nothing is lost, and
    /// the program runs at the speed of the analysis or delivery.
    Block,
}

impl Overflow {
    /// Parses `drop` or `block`.
    pub fn parse(value: &str) -> Result<Overflow, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "drop" => Ok(Overflow::Drop),
            "block" => Ok(Overflow::Block),
            _ => Err("expected `drop` or `block`".into()),
        }
    }
}

/// Where a client delivers its events. `Debug` and `Display` redact the
/// user and password of a URL.
#[derive(Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A Raceway server's base URL, such as `http://localhost:8080`.
    Http(String),
    /// A JSON-lines file, one event per line.
    File(PathBuf),
}

impl Endpoint {
    /// Parses `http://…`, `https://…` or `file:///path`.
    pub fn parse(value: &str) -> Result<Endpoint, String> {
        let value = value.trim();
        if let Some(path) = value.strip_prefix("file://") {
            if path.is_empty() {
                return Err("a file:// endpoint needs a path, as in file:///tmp/events.jsonl".into());
            }
            return Ok(Endpoint::File(PathBuf::from(path)));
        }
        let lower = value.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            let host = value.split_once("://").map(|(_, rest)| rest).unwrap_or("");
            if host.is_empty() || host.starts_with('/') {
                return Err("the URL has no host".into());
            }
            return Ok(Endpoint::Http(value.trim_end_matches('/').to_string()));
        }
        Err("expected an http://, https:// or file:// URL".into())
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Http(url) => f.write_str(&redact_url(url)),
            Endpoint::File(path) => write!(f, "file://{}", path.display()),
        }
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Http(url) => f.debug_tuple("Http").field(&redact_url(url)).finish(),
            Endpoint::File(path) => f.debug_tuple("File").field(path).finish(),
        }
    }
}

/// `url` with the user and password of its authority, if any, replaced by
/// `<redacted>`: `http://user:secret@host/` → `http://<redacted>@host/`.
/// Anything that is not a URL is returned as it is.
pub(crate) fn redact_url(url: &str) -> std::borrow::Cow<'_, str> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.into();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://<redacted>{}", &rest[at..]).into(),
        None => url.into(),
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            endpoint: None,
            service_name: "unknown-service".to_string(),
            instance_id: default_instance_id(),
            environment: std::env::var("ENV")
                .ok()
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| "development".to_string()),
            api_key: None,
            batch_size: 50,
            flush_interval: Duration::from_secs(1),
            debug: false,
            channel_capacity: 65_536,
            request_timeout: Duration::from_secs(10),
            flush_timeout: Duration::from_secs(5),
            retry_buffer: 10_000,
            overflow: None,
            embedded_capacity: 100_000,
            predict: true,
            max_batch_bytes: 1 << 20,
            max_value_bytes: 64 << 10,
        }
    }
}

fn default_instance_id() -> String {
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    let host = if host.is_empty() { "localhost".to_string() } else { host };
    format!("{host}-{}", std::process::id())
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("endpoint", &self.endpoint)
            .field("service_name", &self.service_name)
            .field("instance_id", &self.instance_id)
            .field("environment", &self.environment)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("batch_size", &self.batch_size)
            .field("flush_interval", &self.flush_interval)
            .field("debug", &self.debug)
            .field("channel_capacity", &self.channel_capacity)
            .field("request_timeout", &self.request_timeout)
            .field("flush_timeout", &self.flush_timeout)
            .field("retry_buffer", &self.retry_buffer)
            .field("overflow", &self.overflow)
            .field("embedded_capacity", &self.embedded_capacity)
            .field("predict", &self.predict)
            .field("max_batch_bytes", &self.max_batch_bytes)
            .field("max_value_bytes", &self.max_value_bytes)
            .finish()
    }
}

/// A configuration value that cannot be used. Its message names the
/// `RACEWAY_*` environment variable, and the [`Config`] field when the value
/// is one: `invalid RACEWAY_BATCH_SIZE (batch_size) "0": must be at least 1`.
///
/// `Debug` prints the same message, so that `fn main() -> Result<(), Box<dyn
/// Error>>` with `?` shows a readable line.
#[derive(Clone, PartialEq, Eq)]
pub struct ConfigError {
    setting: &'static str,
    field: Option<&'static str>,
    value: String,
    problem: String,
}

impl ConfigError {
    pub(crate) fn new(setting: &'static str, value: impl Into<String>, problem: impl Into<String>) -> Self {
        ConfigError { setting, field: None, value: value.into(), problem: problem.into() }
    }

    /// A bad value of `Config::field`, which the variable `setting` sets.
    pub(crate) fn field(
        setting: &'static str,
        field: &'static str,
        value: impl Into<String>,
        problem: impl Into<String>,
    ) -> Self {
        ConfigError { field: Some(field), ..ConfigError::new(setting, value, problem) }
    }

    /// The environment variable at fault (`RACEWAY_ENDPOINT`), also when the
    /// value was set in code through the [`Config`] field it names.
    pub fn setting(&self) -> &str {
        self.setting
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.field {
            Some(field) => write!(f, "invalid {} ({field}) {:?}: {}", self.setting, self.value, self.problem),
            None => write!(f, "invalid {} {:?}: {}", self.setting, self.value, self.problem),
        }
    }
}

impl fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads the `RACEWAY_*` environment variables over the defaults.
    ///
    /// Unset or empty variables keep their defaults. A value that cannot be
    /// used is an error naming the variable and what is wrong with it.
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Config::from_env), reading variables through `lookup`
    /// (useful for tests and for configuration stored elsewhere).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut config = Config::default();
        if let Some(v) = get("RACEWAY_ENDPOINT") {
            config.endpoint =
                Some(Endpoint::parse(&v).map_err(|p| ConfigError::new("RACEWAY_ENDPOINT", redact_url(&v), p))?);
        }
        if let Some(v) = get("RACEWAY_SERVICE_NAME") {
            config.service_name = v.trim().to_string();
        }
        if let Some(v) = get("RACEWAY_INSTANCE_ID") {
            config.instance_id = v.trim().to_string();
        }
        if let Some(v) = get("RACEWAY_ENV") {
            config.environment = v.trim().to_string();
        }
        if let Some(v) = get("RACEWAY_API_KEY") {
            config.api_key = Some(v.trim().to_string());
        }
        if let Some(v) = get("RACEWAY_BATCH_SIZE") {
            config.batch_size = parse_count("RACEWAY_BATCH_SIZE", &v)?;
        }
        if let Some(v) = get("RACEWAY_FLUSH_INTERVAL") {
            config.flush_interval = parse_seconds("RACEWAY_FLUSH_INTERVAL", &v)?;
        }
        if let Some(v) = get("RACEWAY_DEBUG") {
            config.debug = parse_bool("RACEWAY_DEBUG", &v)?;
        }
        if let Some(v) = get("RACEWAY_CHANNEL_CAPACITY") {
            config.channel_capacity = parse_count("RACEWAY_CHANNEL_CAPACITY", &v)?;
        }
        if let Some(v) = get("RACEWAY_REQUEST_TIMEOUT") {
            config.request_timeout = parse_seconds("RACEWAY_REQUEST_TIMEOUT", &v)?;
        }
        if let Some(v) = get("RACEWAY_FLUSH_TIMEOUT") {
            config.flush_timeout = parse_seconds("RACEWAY_FLUSH_TIMEOUT", &v)?;
        }
        if let Some(v) = get("RACEWAY_RETRY_BUFFER") {
            config.retry_buffer = parse_count("RACEWAY_RETRY_BUFFER", &v)?;
        }
        if let Some(v) = get("RACEWAY_OVERFLOW") {
            config.overflow = Some(Overflow::parse(&v).map_err(|p| ConfigError::new("RACEWAY_OVERFLOW", v, p))?);
        }
        if let Some(v) = get("RACEWAY_EMBEDDED_CAPACITY") {
            config.embedded_capacity = parse_count("RACEWAY_EMBEDDED_CAPACITY", &v)?;
        }
        if let Some(v) = get("RACEWAY_PREDICT") {
            config.predict = parse_bool("RACEWAY_PREDICT", &v)?;
        }
        if let Some(v) = get("RACEWAY_MAX_BATCH_BYTES") {
            config.max_batch_bytes = parse_count("RACEWAY_MAX_BATCH_BYTES", &v)?;
        }
        if let Some(v) = get("RACEWAY_MAX_VALUE_BYTES") {
            config.max_value_bytes = parse_count("RACEWAY_MAX_VALUE_BYTES", &v)?;
        }
        config.validate()?;
        // Not `Config` fields, read where they act; checked here too, so that
        // a bad value is reported with the others.
        RunSettings::from_lookup(&lookup)?;
        Ok(config)
    }

    /// What a full hand-off does with this configuration: `overflow`, or
    /// the endpoint's default.
    pub fn overflow(&self) -> Overflow {
        self.overflow.unwrap_or(match self.endpoint {
            Some(Endpoint::File(_)) => Overflow::Block,
            _ => Overflow::Drop,
        })
    }

    /// Checks the values that code can set wrongly too; called by
    /// [`RacewayClient::new`](crate::RacewayClient::new).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let positive = |setting, field, n: usize| {
            if n == 0 {
                Err(ConfigError::field(setting, field, "0", "must be at least 1"))
            } else {
                Ok(())
            }
        };
        positive("RACEWAY_BATCH_SIZE", "batch_size", self.batch_size)?;
        positive("RACEWAY_CHANNEL_CAPACITY", "channel_capacity", self.channel_capacity)?;
        positive("RACEWAY_MAX_VALUE_BYTES", "max_value_bytes", self.max_value_bytes)?;
        if self.max_batch_bytes < MIN_BATCH_BYTES {
            return Err(ConfigError::field(
                "RACEWAY_MAX_BATCH_BYTES",
                "max_batch_bytes",
                self.max_batch_bytes.to_string(),
                format!("must be at least {MIN_BATCH_BYTES}"),
            ));
        }
        if self.flush_interval.is_zero() {
            return Err(ConfigError::field(
                "RACEWAY_FLUSH_INTERVAL",
                "flush_interval",
                "0s",
                "must be longer than zero",
            ));
        }
        if self.request_timeout.is_zero() {
            return Err(ConfigError::field(
                "RACEWAY_REQUEST_TIMEOUT",
                "request_timeout",
                "0s",
                "must be longer than zero",
            ));
        }
        if self.service_name.trim().is_empty() {
            return Err(ConfigError::field(
                "RACEWAY_SERVICE_NAME",
                "service_name",
                &self.service_name,
                "must not be empty",
            ));
        }
        if self.instance_id.trim().is_empty() {
            return Err(ConfigError::field(
                "RACEWAY_INSTANCE_ID",
                "instance_id",
                &self.instance_id,
                "must not be empty",
            ));
        }
        if let Some(key) = &self.api_key {
            if key.chars().any(|c| c.is_control()) {
                // The value is a secret: never echo it.
                return Err(ConfigError::field(
                    "RACEWAY_API_KEY",
                    "api_key",
                    "<redacted>",
                    "contains control characters and cannot be sent in an HTTP header",
                ));
            }
        }
        #[cfg(not(feature = "http"))]
        if let Some(Endpoint::Http(url)) = &self.endpoint {
            return Err(ConfigError::field(
                "RACEWAY_ENDPOINT",
                "endpoint",
                redact_url(url),
                "HTTP delivery needs the `http` cargo feature of `raceway`",
            ));
        }
        Ok(())
    }
}

/// The smallest `max_batch_bytes`: room for one small event.
pub(crate) const MIN_BATCH_BYTES: usize = 1024;

/// The settings of a process-wide client's run that are not [`Config`]
/// fields: read from the environment by [`init`](crate::init) (and checked
/// by [`Config::from_env`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct RunSettings {
    /// `RACEWAY_REPORT`: where the embedded report is written, as HTML when
    /// the name ends in `.html` or `.htm`, as JSON otherwise.
    pub(crate) report: Option<PathBuf>,
    /// `RACEWAY_FAIL_ON_RACE`: exit with status 66 when races were found.
    pub(crate) fail_on_race: bool,
    /// `RACEWAY_SIGNALS` (default on): print the report on SIGINT and
    /// SIGTERM where the program has no handler of its own.
    pub(crate) signals: bool,
}

impl RunSettings {
    pub(crate) fn from_env() -> Result<RunSettings, ConfigError> {
        Self::from_lookup(&|name: &str| std::env::var(name).ok())
    }

    pub(crate) fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<RunSettings, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut settings = RunSettings { signals: true, ..RunSettings::default() };
        if let Some(v) = get("RACEWAY_REPORT") {
            settings.report = Some(PathBuf::from(v));
        }
        if let Some(v) = get("RACEWAY_FAIL_ON_RACE") {
            settings.fail_on_race = parse_bool("RACEWAY_FAIL_ON_RACE", &v)?;
        }
        if let Some(v) = get("RACEWAY_SIGNALS") {
            settings.signals = parse_bool("RACEWAY_SIGNALS", &v)?;
        }
        Ok(settings)
    }
}

fn parse_count(setting: &'static str, value: &str) -> Result<usize, ConfigError> {
    match value.trim().parse::<usize>() {
        Ok(0) => Err(ConfigError::new(setting, value, "must be at least 1")),
        Ok(n) => Ok(n),
        Err(_) => Err(ConfigError::new(setting, value, "expected a positive whole number")),
    }
}

fn parse_seconds(setting: &'static str, value: &str) -> Result<Duration, ConfigError> {
    let secs: f64 = value
        .trim()
        .parse()
        .map_err(|_| ConfigError::new(setting, value, "expected a number of seconds, such as 0.5"))?;
    if !secs.is_finite() || secs <= 0.0 {
        return Err(ConfigError::new(setting, value, "must be a positive number of seconds"));
    }
    Duration::try_from_secs_f64(secs).map_err(|_| ConfigError::new(setting, value, "is too large"))
}

/// Whether to predict, by `RACEWAY_PREDICT` (default: yes).
pub(crate) fn predict_from_env() -> Result<bool, ConfigError> {
    match std::env::var("RACEWAY_PREDICT") {
        Ok(v) if !v.trim().is_empty() => parse_bool("RACEWAY_PREDICT", &v),
        _ => Ok(true),
    }
}

fn parse_bool(setting: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::new(setting, value, "expected true/false, 1/0, yes/no or on/off (any case)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_match_the_other_sdks() {
        let c = from(&[]).unwrap();
        assert_eq!(c.endpoint, None);
        assert_eq!(c.batch_size, 50);
        assert_eq!(c.flush_interval, Duration::from_secs(1));
        assert!(!c.debug);
        assert!(c.instance_id.ends_with(&format!("-{}", std::process::id())));
    }

    #[test]
    fn reads_every_variable() {
        let c = from(&[
            ("RACEWAY_ENDPOINT", "http://localhost:8080/"),
            ("RACEWAY_SERVICE_NAME", "payments"),
            ("RACEWAY_INSTANCE_ID", "p-1"),
            ("RACEWAY_ENV", "staging"),
            ("RACEWAY_API_KEY", "s3cret"),
            ("RACEWAY_BATCH_SIZE", "200"),
            ("RACEWAY_FLUSH_INTERVAL", "0.25"),
            ("RACEWAY_DEBUG", "true"),
        ])
        .unwrap();
        assert_eq!(c.endpoint, Some(Endpoint::Http("http://localhost:8080".into())));
        assert_eq!(c.service_name, "payments");
        assert_eq!(c.instance_id, "p-1");
        assert_eq!(c.environment, "staging");
        assert_eq!(c.api_key.as_deref(), Some("s3cret"));
        assert_eq!(c.batch_size, 200);
        assert_eq!(c.flush_interval, Duration::from_millis(250));
        assert!(c.debug);
    }

    #[test]
    fn file_endpoint() {
        let c = from(&[("RACEWAY_ENDPOINT", "file:///tmp/x/events.jsonl")]).unwrap();
        assert_eq!(c.endpoint, Some(Endpoint::File("/tmp/x/events.jsonl".into())));
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (var, value, needle) in [
            ("RACEWAY_BATCH_SIZE", "lots", "positive whole number"),
            ("RACEWAY_BATCH_SIZE", "0", "at least 1"),
            ("RACEWAY_FLUSH_INTERVAL", "-1", "positive number of seconds"),
            ("RACEWAY_FLUSH_INTERVAL", "soon", "number of seconds"),
            ("RACEWAY_FLUSH_INTERVAL", "NaN", "positive number of seconds"),
            ("RACEWAY_DEBUG", "maybe", "true/false"),
            ("RACEWAY_FAIL_ON_RACE", "maybe", "true/false"),
            ("RACEWAY_FAIL_ON_RACE", "2", "true/false"),
            ("RACEWAY_SIGNALS", "enabled", "true/false"),
            ("RACEWAY_ENDPOINT", "localhost:8080", "http://"),
            ("RACEWAY_ENDPOINT", "file://", "needs a path"),
        ] {
            let err = from(&[(var, value)]).unwrap_err();
            assert_eq!(err.setting(), var);
            let text = err.to_string();
            assert!(text.contains(var) && text.contains(needle), "{text}");
        }
    }

    #[test]
    fn size_caps_and_flush_timeout() {
        let c = from(&[]).unwrap();
        assert_eq!((c.max_batch_bytes, c.max_value_bytes), (1 << 20, 64 << 10));
        assert_eq!(c.flush_timeout, Duration::from_secs(5));
        let c = from(&[("RACEWAY_MAX_BATCH_BYTES", "500000"), ("RACEWAY_MAX_VALUE_BYTES", "1000")]).unwrap();
        assert_eq!((c.max_batch_bytes, c.max_value_bytes), (500_000, 1000));
        for var in ["RACEWAY_MAX_BATCH_BYTES", "RACEWAY_MAX_VALUE_BYTES"] {
            let err = from(&[(var, "lots")]).unwrap_err();
            assert_eq!(err.setting(), var);
        }
        let err = from(&[("RACEWAY_MAX_BATCH_BYTES", "10")]).unwrap_err();
        assert!(err.to_string().contains("RACEWAY_MAX_BATCH_BYTES"), "{err}");
    }

    #[test]
    fn urls_are_redacted() {
        for (url, shown) in [
            ("http://user:secret@host:8080/x", "http://<redacted>@host:8080/x"),
            ("https://secret@host", "https://<redacted>@host"),
            ("http://host/path@x", "http://host/path@x"),
            ("http://a:b@c@host?q=@", "http://<redacted>@host?q=@"),
            ("not a url", "not a url"),
        ] {
            assert_eq!(redact_url(url), shown);
        }
        let endpoint = Endpoint::parse("http://user:secret@localhost:8080/").unwrap();
        let c = Config { endpoint: Some(endpoint.clone()), ..Config::default() };
        for text in [format!("{c:?}"), format!("{endpoint}"), format!("{endpoint:?}")] {
            assert!(!text.contains("secret") && !text.contains("user") && text.contains("<redacted>"), "{text}");
        }
        let err = from(&[("RACEWAY_ENDPOINT", "ftp://user:secret@host")]).unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
    }

    #[test]
    fn booleans_take_the_usual_words_in_any_case() {
        for (value, expected) in [
            ("1", true),
            ("TRUE", true),
            ("Yes", true),
            ("on", true),
            ("0", false),
            ("False", false),
            ("NO", false),
            ("off", false),
        ] {
            assert_eq!(from(&[("RACEWAY_DEBUG", value)]).unwrap().debug, expected, "{value}");
            let lookup = |name: &str| (name == "RACEWAY_FAIL_ON_RACE").then(|| value.to_string());
            assert_eq!(RunSettings::from_lookup(&lookup).unwrap().fail_on_race, expected, "{value}");
        }
        assert!(RunSettings::from_lookup(&|_| None).unwrap().signals, "signals are handled by default");
    }

    #[test]
    fn errors_of_code_set_fields_name_the_variable_too() {
        let err = Config { batch_size: 0, ..Config::default() }.validate().unwrap_err();
        assert_eq!(err.setting(), "RACEWAY_BATCH_SIZE");
        assert_eq!(err.to_string(), "invalid RACEWAY_BATCH_SIZE (batch_size) \"0\": must be at least 1");
        // `?` in `main` prints `Debug`: the same readable line.
        assert_eq!(format!("{err:?}"), err.to_string());
    }

    #[test]
    fn debug_never_shows_the_key() {
        let c = Config { api_key: Some("top-secret-key".into()), ..Config::default() };
        let text = format!("{c:?}");
        assert!(!text.contains("top-secret-key"));
        assert!(text.contains("<redacted>"));
    }
}
