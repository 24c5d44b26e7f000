//! `#[track]`, `tracked!` and `#[derive(Traced)]` at run time: the exact
//! events each shape records, captured through the embedded collector.

use raceway::wire::EventKind;
use raceway::{track, tracked, Traced};
use raceway_tests::capture::{capture, strip_address, summarize, uncaptured, Seen};
use serde_json::json;
use std::pin::Pin;
use std::sync::Mutex;

const M: &str = "macros";

fn q(name: &str) -> String {
    format!("{M}::{name}")
}

const ADD_LINE: u32 = line!() + 2;
#[track]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[test]
fn free_function_records_call_args_return_and_duration() {
    let (sum, events) = capture(|| add(2, 3));
    assert_eq!(sum, 5);
    assert_eq!(summarize(&events), [Seen::Call(q("add")), Seen::Return(q("add"), json!(5))]);
    match &events[0].kind {
        EventKind::FunctionCall { module, args, file, line, .. } => {
            assert_eq!(module, M);
            assert_eq!(args.to_json(), json!({"a": 2, "b": 3}));
            assert!(file.ends_with("macros.rs"));
            assert_eq!(*line, ADD_LINE, "the line of the function's name");
        }
        other => panic!("{other:?}"),
    }
    assert!(events[1].metadata.duration_ns.unwrap() > 0);
}

#[test]
fn without_a_client_nothing_changes() {
    // Not while another test captures: these calls would be its events.
    uncaptured(|| {
        assert_eq!(add(20, 22), 42);
        assert_eq!(parse_number("7"), Ok(7));
    });
}

#[derive(Debug, PartialEq)]
struct ParseError(String);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not a number: {}", self.0)
    }
}

#[track]
fn parse_number(text: &str) -> Result<i64, ParseError> {
    let n: i64 = text.trim().parse().map_err(|_| ParseError(text.to_string()))?;
    if n < 0 {
        return Err(ParseError("negative".into()));
    }
    Ok(n)
}

#[test]
fn question_mark_and_early_return_record_the_error() {
    let (results, events) = capture(|| (parse_number("12"), parse_number("x"), parse_number("-1")));
    assert_eq!(results.0, Ok(12));
    assert_eq!(results.1, Err(ParseError("x".into())));
    let seen = summarize(&events);
    assert_eq!(seen[0], Seen::Call(q("parse_number")));
    // `ParseError` is not `Serialize`, so neither is the result: `Debug` it is.
    assert_eq!(seen[1], Seen::Return(q("parse_number"), json!("Ok(12)")));
    assert_eq!(seen[3], Seen::Error("macros::ParseError".into(), "not a number: x".into()));
    assert_eq!(seen[4], Seen::Return(q("parse_number"), json!("Err(ParseError(\"x\"))")));
    assert_eq!(seen[6], Seen::Error("macros::ParseError".into(), "not a number: negative".into()));
    assert_eq!(seen.len(), 8);
}

#[track]
fn explode(code: u32) -> u32 {
    if code > 0 {
        panic!("boom {code}");
    }
    code
}

#[test]
fn a_panic_is_recorded_and_continues_with_its_payload() {
    let (result, events) = capture(|| std::panic::catch_unwind(|| explode(7)));
    let payload = result.unwrap_err();
    assert_eq!(payload.downcast_ref::<String>().map(String::as_str), Some("boom 7"));
    let seen = summarize(&events);
    assert_eq!(seen[0], Seen::Call(q("explode")));
    assert_eq!(seen[1], Seen::Error("panic".into(), "boom 7".into()));
    assert!(matches!(&seen[2], Seen::Return(name, _) if name == &q("explode")));
}

#[track]
fn diverge(message: &str) -> ! {
    panic!("{message}")
}

#[test]
fn diverging_functions_record_their_panic() {
    let (result, events) = capture(|| std::panic::catch_unwind(|| diverge("stop")));
    assert!(result.is_err());
    assert_eq!(summarize(&events)[1], Seen::Error("panic".into(), "stop".into()));
}

#[derive(Debug, Default)]
struct Counter {
    value: i64,
    items: Vec<i64>,
}

impl Counter {
    #[track]
    fn get(&self) -> i64 {
        self.value
    }

    #[track]
    fn bump(&mut self, by: i64) -> &mut i64 {
        self.value += by;
        &mut self.value
    }

    #[track]
    fn first_or_last(&self, first: bool) -> &i64 {
        if first {
            return &self.items[0];
        }
        self.items.last().unwrap()
    }

    #[track]
    fn into_value(self) -> i64 {
        self.value
    }

    #[track]
    fn boxed(self: Box<Self>) -> i64 {
        self.value * 2
    }

    #[track(skip(self))]
    fn pinned(self: Pin<&mut Self>) -> i64 {
        self.value * 3
    }
}

#[track]
fn longest<'a>(a: &'a mut String, b: &'a mut String) -> &'a mut String {
    if a.len() >= b.len() {
        a
    } else {
        b
    }
}

#[test]
fn methods_with_every_receiver_and_borrowed_returns() {
    let (values, events) = capture(|| {
        let mut c = Counter { value: 1, items: vec![10, 20] };
        *c.bump(2) += 100;
        let got = c.get();
        let first = *c.first_or_last(true);
        let last = *c.first_or_last(false);
        let mut pinned = Counter { value: 5, ..Counter::default() };
        let p = Pin::new(&mut pinned).pinned();
        let b = Box::new(Counter { value: 4, ..Counter::default() }).boxed();
        let v = c.into_value();
        let (mut x, mut y) = ("ab".to_string(), "abc".to_string());
        longest(&mut x, &mut y).push('!');
        (got, first, last, p, b, v, y)
    });
    assert_eq!(values, (103, 10, 20, 15, 8, 103, "abc!".to_string()));
    let calls: Vec<_> = summarize(&events).into_iter().filter(|s| matches!(s, Seen::Call(_))).collect();
    assert_eq!(
        calls,
        ["bump", "get", "first_or_last", "first_or_last", "pinned", "boxed", "into_value", "longest"]
            .map(|n| Seen::Call(q(n)))
    );
    match &events[0].kind {
        EventKind::FunctionCall { args, .. } => {
            assert_eq!(args.to_json()["by"], 2);
            assert_eq!(args.to_json()["self"], json!("Counter { value: 1, items: [10, 20] }"), "Debug fallback");
        }
        other => panic!("{other:?}"),
    }
}

trait Shape {
    fn area(&self) -> f64;
}

struct Square(f64);

impl Shape for Square {
    #[track]
    fn area(&self) -> f64 {
        self.0 * self.0
    }
}

#[track]
fn total<T, I>(shapes: I) -> f64
where
    T: Shape,
    I: IntoIterator<Item = T>,
{
    shapes.into_iter().map(|s| s.area()).sum()
}

#[track]
fn describe(value: impl std::fmt::Display) -> impl std::fmt::Display {
    format!("<{value}>")
}

#[test]
fn generic_trait_and_impl_trait_functions() {
    let (out, events) = capture(|| (total(vec![Square(2.0), Square(3.0)]), describe(5).to_string()));
    assert_eq!(out, (13.0, "<5>".to_string()));
    let seen = summarize(&events);
    assert_eq!(seen[0], Seen::Call(q("total")));
    assert_eq!(seen[1], Seen::Call(q("area")));
    assert!(seen.contains(&Seen::Return(q("total"), json!(13.0))));
    // An opaque return type: recorded by its type name.
    assert!(matches!(seen.last(), Some(Seen::Return(name, v)) if name == &q("describe") && v.is_string()));
}

#[track]
unsafe fn read_raw(p: *const i64) -> i64 {
    *p
}

#[track]
extern "C" fn plus_one(x: i32) -> i32 {
    x + 1
}

#[track]
fn destructure((a, b): (i64, i64), Counter { value, .. }: Counter) -> i64 {
    a + b + value
}

#[test]
fn unsafe_extern_and_destructuring_functions() {
    let x = 41i64;
    let (out, events) =
        capture(|| (unsafe { read_raw(&x) }, plus_one(1), destructure((1, 2), Counter { value: 3, items: vec![] })));
    assert_eq!(out, (41, 2, 6));
    let calls: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::FunctionCall { args, .. } => Some(args.to_json()),
            _ => None,
        })
        .collect();
    assert_eq!(calls[2], json!({"a": 1, "b": 2, "value": 3}));
}

#[track(skip_all, name = "renamed", ret = false, err = false, atomic = false)]
fn options(secret: &str) -> Result<usize, String> {
    Err(secret.to_string())
}

#[track(skip(password))]
fn login(user: &str, password: &str) -> bool {
    !user.is_empty() && !password.is_empty()
}

#[test]
fn options_skip_rename_and_silence() {
    let (_, events) = capture(|| (options("hunter2"), login("ann", "hunter2")));
    let seen = summarize(&events);
    assert_eq!(
        seen,
        [
            Seen::Call(q("renamed")),
            Seen::Return(q("renamed"), json!(null)),
            Seen::Call(q("login")),
            Seen::Return(q("login"), json!(true)),
        ]
    );
    let text = serde_json::to_string(&events).unwrap();
    assert!(!text.contains("hunter2"), "skipped arguments and err = false leave no trace");
    assert_eq!(events[0].metadata.tags.get(raceway::wire::TAG_ATOMIC_REGION).map(String::as_str), Some("false"));
    assert_eq!(events[2].metadata.tags.get(raceway::wire::TAG_ATOMIC_REGION), None);
}

struct Dropper(&'static str, &'static Mutex<Vec<&'static str>>);

impl Drop for Dropper {
    fn drop(&mut self) {
        self.1.lock().unwrap().push(self.0);
    }
}

#[track(skip_all)]
fn take_two(first: Dropper, second: Dropper) {
    first.1.lock().unwrap().push("body");
    let _ = &second;
}

fn take_two_plain(first: Dropper, second: Dropper) {
    first.1.lock().unwrap().push("body");
    let _ = &second;
}

#[test]
fn argument_drop_order_is_unchanged() {
    static TRACKED: Mutex<Vec<&str>> = Mutex::new(Vec::new());
    static PLAIN: Mutex<Vec<&str>> = Mutex::new(Vec::new());
    capture(|| take_two(Dropper("first", &TRACKED), Dropper("second", &TRACKED)));
    take_two_plain(Dropper("first", &PLAIN), Dropper("second", &PLAIN));
    assert_eq!(*TRACKED.lock().unwrap(), *PLAIN.lock().unwrap());
}

#[track]
async fn fetch_and_add(counter: &tokio::sync::Mutex<i64>, by: i64) -> i64 {
    let mut guard = counter.lock().await;
    tokio::task::yield_now().await;
    *guard += by;
    *guard
}

fn async_shapes(rt: tokio::runtime::Runtime) {
    let counter = tokio::sync::Mutex::new(1);
    let (v, events) = capture(|| rt.block_on(async { fetch_and_add(&counter, 2).await }));
    assert_eq!(v, 3);
    // The call runs as an execution of its own: forked at its first poll,
    // joined back when it completes.
    assert_eq!(
        summarize(&events),
        [
            Seen::Other("AsyncSpawn".into()),
            Seen::Call(q("fetch_and_add")),
            Seen::Return(q("fetch_and_add"), json!(3)),
            Seen::Other("AsyncAwait".into())
        ]
    );
    assert!(events[2].metadata.duration_ns.unwrap() > 0);
    assert_ne!(events[0].metadata.thread_id, events[1].metadata.thread_id, "the call's own execution");
    assert_eq!(events[1].metadata.thread_id, events[2].metadata.thread_id);
    assert_eq!(events[0].metadata.thread_id, events[3].metadata.thread_id, "joined back");
    // A Send future stays Send: it can be spawned on the multi-thread runtime.
    let counter = std::sync::Arc::new(tokio::sync::Mutex::new(0));
    let (v, _) = capture(|| {
        rt.block_on(async {
            let c = counter.clone();
            tokio::spawn(async move { fetch_and_add(&c, 5).await }).await.unwrap()
        })
    });
    assert_eq!(v, 5);
}

#[test]
fn async_fn_on_the_current_thread_runtime() {
    async_shapes(tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap());
}

#[test]
fn async_fn_on_the_multi_thread_runtime() {
    async_shapes(tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap());
}

#[async_trait::async_trait]
trait Store {
    async fn load(&self, key: &str) -> Option<i64>;
}

struct MemStore;

#[async_trait::async_trait]
impl Store for MemStore {
    #[track]
    async fn load(&self, key: &str) -> Option<i64> {
        tokio::task::yield_now().await;
        (key == "a").then_some(1)
    }
}

#[test]
fn async_trait_methods_cover_the_whole_future() {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let (v, events) = capture(|| rt.block_on(MemStore.load("a")));
    assert_eq!(v, Some(1));
    let seen = summarize(&events);
    assert_eq!(
        seen,
        [
            Seen::Other("AsyncSpawn".into()),
            Seen::Call(q("load")),
            Seen::Return(q("load"), json!(1)),
            Seen::Other("AsyncAwait".into())
        ]
    );
}

#[derive(Traced, Debug)]
struct Account {
    #[traced(key)]
    id: String,
    balance: i64,
}

#[derive(Traced)]
struct Anonymous<T> {
    level: T,
}

#[test]
fn tracked_reads_and_writes() {
    let mut alice = Account { id: "alice".into(), balance: 100 };
    let mut counter = 7i64;
    let mut write_line = 0;
    let (read, events) = capture(|| {
        let read = tracked!(alice.balance);
        write_line = line!() + 1;
        tracked!(alice.balance = read - 30);
        tracked!(counter += 1);
        let by_ref: &String = tracked!(&alice.id);
        assert_eq!(by_ref, "alice");
        read
    });
    assert_eq!((read, alice.balance, counter), (100, 70, 8));
    assert_eq!(
        summarize(&events),
        [
            Seen::Read("Account[alice].balance".into(), json!(100)),
            Seen::Write("Account[alice].balance".into(), json!(100), json!(70)),
            Seen::Read("counter".into(), json!(7)),
            Seen::Write("counter".into(), json!(7), json!(8)),
            Seen::Read("Account[alice].id".into(), json!("alice")),
        ]
    );
    match &events[1].kind {
        EventKind::StateChange { location, variable, .. } => {
            // The column of the place inside `tracked!( … )`.
            assert_eq!(&**location, format!("{}:{}:18", file!(), write_line));
            assert_eq!(variable, "Account[alice].balance", "a keyed instance is named by its key, no address");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_compound_operator() {
    let mut x = 12i64;
    let (_, events) = capture(|| {
        tracked!(x += 4);
        tracked!(x -= 2);
        tracked!(x *= 3);
        tracked!(x /= 6);
        tracked!(x %= 4);
        tracked!(x &= 6);
        tracked!(x |= 8);
        tracked!(x ^= 1);
        tracked!(x <<= 2);
        tracked!(x >>= 1);
    });
    let writes: Vec<_> = summarize(&events)
        .into_iter()
        .filter_map(|s| match s {
            Seen::Write(_, old, new) => Some((old.as_i64().unwrap(), new.as_i64().unwrap())),
            _ => None,
        })
        .collect();
    assert_eq!(writes, [(12, 16), (16, 14), (14, 42), (42, 7), (7, 3), (3, 2), (2, 10), (10, 11), (11, 44), (44, 22)]);
    assert_eq!(events.len(), 20, "a read and a write each");
}

#[test]
fn places_through_guards_indexes_and_derefs() {
    let accounts = Mutex::new(vec![Account { id: "a".into(), balance: 1 }, Account { id: "b".into(), balance: 2 }]);
    let boxed = Box::new(Anonymous { level: 3u8 });
    let mut r = 5i32;
    let (_, events) = capture(|| {
        let mut guard = accounts.lock().unwrap();
        let i = 1;
        tracked!(guard[i].balance += 10);
        let level = tracked!(boxed.level);
        let rr = &mut r;
        tracked!(*rr = i32::from(level));
    });
    let seen = summarize(&events);
    assert_eq!(seen[0], Seen::Read("Account[b].balance".into(), json!(2)));
    assert_eq!(seen[1], Seen::Write("Account[b].balance".into(), json!(2), json!(12)));
    assert_eq!(seen[2], Seen::Read("boxed.level".into(), json!(3)));
    assert_eq!(seen[3], Seen::Write("*rr".into(), json!(5), json!(3)));
    assert_eq!(r, 3);
}

#[test]
fn same_text_different_objects_are_different_variables() {
    let mut accounts = vec![Anonymous { level: 1i64 }, Anonymous { level: 2i64 }];
    let (_, events) = capture(|| {
        for account in &mut accounts {
            tracked!(account.level += 1);
        }
    });
    let names: Vec<&str> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::StateChange { variable, .. } => Some(variable.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(strip_address(names[0]), "account.level");
    assert_eq!(names[0], names[1], "read and write of one object share the identity");
    assert_ne!(names[0], names[2], "the same text on another object is another variable");
}
