//! The HTML report, rendered by a real browser: headless Chromium loads the
//! page and dumps the DOM it built, and the assertions read that DOM:
//! every execution of every race has a lane, and each access sits on its
//! execution's lane, in the right role, with the region's breaker marked.
//!
//! Chromium is Debian's `chromium` package (`.ci/run` installs it). Without
//! it the test says so loudly and passes, except in CI (`CI` set, as
//! `.ci/run` and CI services set it), where it fails.

use raceway::sync::Mutex;
use raceway::{track, tracked, Report, Traced};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Barrier;
use std::time::{Duration, Instant};

#[derive(Traced)]
struct Account {
    #[traced(key)]
    owner: String,
    balance: i64,
}

/// The bank's lost update: the lock released between the read and the
/// write-back.
#[track]
fn withdraw(account: &Mutex<Account>, amount: i64, both_read: &Barrier) {
    let seen = {
        let g = account.lock().unwrap();
        tracked!(g.balance)
    };
    both_read.wait();
    let mut g = account.lock().unwrap();
    tracked!(g.balance = seen - amount);
}

/// A report with an atomicity violation (three accesses, two executions)
/// and a data race (an untracked lock: nothing orders the two writes).
fn racy_report() -> Report {
    raceway::check(|| {
        let account = Mutex::with_name(Account { owner: "alice".into(), balance: 100 }, "alice's account");
        let both_read = Barrier::new(2);
        let hits = std::sync::Mutex::new(0i64);
        raceway::thread::scope(|s| {
            for amount in [30, 50] {
                let (account, both_read, hits) = (&account, &both_read, &hits);
                raceway::thread::Builder::new()
                    .name(format!("teller-{amount}"))
                    .spawn_scoped(s, move || {
                        withdraw(account, amount, both_read);
                        let mut h = hits.lock().unwrap();
                        tracked!(*h += 1);
                    })
                    .unwrap();
            }
        });
    })
}

/// The browser, if there is one.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file())
}

/// The DOM Chromium built from the page at `page`.
fn dump_dom(browser: &Path, page: &Path) -> String {
    let profile = std::env::temp_dir().join(format!("raceway-chromium-{}-{}", std::process::id(), line!()));
    let _ = std::fs::remove_dir_all(&profile);
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut dom = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut dom).map(|_| dom)
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let dom = reader.join().unwrap().unwrap();
    let _ = std::fs::remove_dir_all(&profile);
    assert!(status.success() && !dom.is_empty(), "chromium failed: {status:?}");
    dom
}

#[test]
fn chromium_draws_every_execution_as_a_lane_and_every_access_on_its_lane() {
    let Some(browser) = chromium() else {
        if std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false")) {
            panic!("CI=true but chromium is not installed: .ci/run installs Debian's `chromium` package");
        }
        eprintln!("\n!!!!! SKIPPED: chromium is not installed (apt-get install chromium); the HTML report was not rendered !!!!!\n");
        return;
    };
    let report = racy_report();
    let kinds: BTreeSet<&str> = report.races().iter().map(|r| r.kind().describe()).collect();
    assert!(kinds.contains("lost update") && kinds.contains("data race"), "{report}");
    let page = std::env::temp_dir().join(format!("raceway-report-{}.html", std::process::id()));
    std::fs::write(&page, report.to_html()).unwrap();
    let dom = Dom::parse(&dump_dom(&browser, &page));
    let _ = std::fs::remove_file(&page);

    let sections: Vec<usize> = dom.all(0, |n| dom.nodes[n].tag == "section" && dom.has_class(n, "race"));
    assert_eq!(sections.len(), report.races().len(), "one section per race");
    for (i, race) in report.races().iter().enumerate() {
        let section = sections[i];
        assert_eq!(dom.attr(section, "data-variable"), Some(race.variable()));
        let figure = dom.all(section, |n| dom.attr(n, "data-schedule") == Some("observed"));
        assert_eq!(figure.len(), 1, "race {i}: one observed schedule");
        let figure = figure[0];
        let accesses: Vec<(&str, &raceway::analyzer::Access)> = race
            .region_start()
            .map(|a| ("region-start", a))
            .into_iter()
            .chain([("first", &race.accesses()[0]), ("second", &race.accesses()[1])])
            .collect();
        // Every execution of the race has a lane, and there is no other.
        let lanes: Vec<usize> = dom.all(figure, |n| dom.has_class(n, "lane"));
        let lane_names: BTreeSet<&str> = lanes.iter().filter_map(|&l| dom.attr(l, "data-execution")).collect();
        let executions: BTreeSet<&str> = accesses.iter().map(|(_, a)| a.execution.as_str()).collect();
        assert_eq!(lane_names, executions, "race {i}: one lane per execution");
        assert_eq!(lanes.len(), executions.len(), "race {i}: one lane per execution");
        // Every access is drawn once, inside its execution's lane.
        for (role, access) in &accesses {
            let drawn =
                dom.all(figure, |n| dom.has_class(n, "access") && dom.attr(n, "data-event") == Some(&access.event_id));
            assert_eq!(drawn.len(), 1, "race {i}: the {role} access is drawn once");
            let drawn = drawn[0];
            assert_eq!(dom.attr(drawn, "data-role"), Some(*role));
            let lane = dom.ancestor(drawn, |n| dom.has_class(n, "lane")).expect("inside a lane");
            assert_eq!(
                dom.attr(lane, "data-execution"),
                Some(access.execution.as_str()),
                "race {i}: {role} on its lane"
            );
            let text = dom.text(drawn);
            let line = access.location.split(':').nth(1).unwrap();
            assert!(text.contains(&format!(":{line}")), "race {i}: {role} shows its source line: {text}");
            assert!(text.contains(&access.new_value.to_string()), "race {i}: {role} shows its value: {text}");
        }
        let breakers: Vec<usize> = dom.all(figure, |n| dom.has_class(n, "breaks"));
        if race.region_start().is_some() {
            assert_eq!(breakers.len(), 1, "race {i}: the access that broke the region is highlighted");
            assert_eq!(dom.attr(breakers[0], "data-role"), Some("first"));
            // The lost update's interleaved write was ordered by the lock:
            // the edge is drawn.
            assert!(race.happens_before(), "{report}");
            assert_eq!(dom.all(figure, |n| dom.has_class(n, "hb")).len(), 2, "race {i}: the edge and its label");
        } else {
            assert!(breakers.is_empty());
            assert_eq!(dom.all(figure, |n| dom.has_class(n, "unordered")).len(), 2, "race {i}: unordered, drawn so");
        }
    }
    // Self-contained: nothing to fetch.
    for n in 0..dom.nodes.len() {
        let tag = dom.nodes[n].tag.as_str();
        assert!(tag != "script" && tag != "link" && tag != "img", "an external resource: <{tag}>");
    }
}

/// The DOM as Chromium serializes it: elements with their attributes,
/// children and text. Enough of HTML for a serializer's output: every
/// element closed except the void ones, attribute values quoted.
struct Dom {
    nodes: Vec<Node>,
}

struct Node {
    tag: String,
    attrs: Vec<(String, String)>,
    parent: Option<usize>,
    children: Vec<usize>,
    text: String,
}

const VOID: &[&str] =
    &["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"];

impl Dom {
    fn parse(html: &str) -> Dom {
        let mut nodes = vec![Node {
            tag: "#document".into(),
            attrs: Vec::new(),
            parent: None,
            children: Vec::new(),
            text: String::new(),
        }];
        let mut open = 0usize;
        let mut rest = html;
        while let Some(lt) = rest.find('<') {
            nodes[open].text.push_str(&unescape(&rest[..lt]));
            rest = &rest[lt..];
            if let Some(after) = rest.strip_prefix("<!--") {
                rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            } else if rest.starts_with("<!") {
                rest = rest.find('>').map_or("", |end| &rest[end + 1..]);
            } else if let Some(after) = rest.strip_prefix("</") {
                let end = after.find('>').expect("a closing tag ends");
                let tag = after[..end].trim().to_ascii_lowercase();
                // Close up to the matching element.
                let mut at = open;
                while at != 0 && nodes[at].tag != tag {
                    at = nodes[at].parent.unwrap();
                }
                if at != 0 {
                    open = nodes[at].parent.unwrap();
                }
                rest = &after[end + 1..];
            } else {
                let (tag, attrs, self_closing, len) = start_tag(rest);
                let id = nodes.len();
                let void = VOID.contains(&tag.as_str()) || self_closing;
                nodes.push(Node { tag, attrs, parent: Some(open), children: Vec::new(), text: String::new() });
                nodes[open].children.push(id);
                if !void {
                    open = id;
                }
                rest = &rest[len..];
            }
        }
        Dom { nodes }
    }

    fn attr(&self, n: usize, name: &str) -> Option<&str> {
        self.nodes[n].attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn has_class(&self, n: usize, class: &str) -> bool {
        self.attr(n, "class").is_some_and(|c| c.split_whitespace().any(|c| c == class))
    }

    /// The descendants of `n` that match, in document order.
    fn all(&self, n: usize, matches: impl Fn(usize) -> bool + Copy) -> Vec<usize> {
        let mut out = Vec::new();
        for &child in &self.nodes[n].children {
            if matches(child) {
                out.push(child);
            }
            out.extend(self.all(child, matches));
        }
        out
    }

    fn ancestor(&self, n: usize, matches: impl Fn(usize) -> bool) -> Option<usize> {
        let mut at = self.nodes[n].parent;
        while let Some(p) = at {
            if matches(p) {
                return Some(p);
            }
            at = self.nodes[p].parent;
        }
        None
    }

    fn text(&self, n: usize) -> String {
        let mut out = self.nodes[n].text.clone();
        for &child in &self.nodes[n].children {
            out.push(' ');
            out.push_str(&self.text(child));
        }
        out
    }
}

/// A start tag at the beginning of `s`: its name, attributes, whether it
/// ends with `/>`, and its length.
fn start_tag(s: &str) -> (String, Vec<(String, String)>, bool, usize) {
    let bytes = s.as_bytes();
    let mut i = 1;
    while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' && bytes[i] != b'/' {
        i += 1;
    }
    let tag = s[1..i].to_ascii_lowercase();
    let mut attrs = Vec::new();
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        match bytes.get(i) {
            None => return (tag, attrs, false, s.len()),
            Some(b'>') => return (tag, attrs, false, i + 1),
            Some(b'/') if bytes.get(i + 1) == Some(&b'>') => return (tag, attrs, true, i + 2),
            _ => {}
        }
        let start = i;
        while i < bytes.len() && !matches!(bytes[i], b'=' | b'>' | b'/') && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let name = s[start..i].to_ascii_lowercase();
        let mut value = String::new();
        if bytes.get(i) == Some(&b'=') {
            i += 1;
            let quote = bytes[i];
            if quote == b'"' || quote == b'\'' {
                let end = i + 1 + s[i + 1..].find(quote as char).expect("a quoted value ends");
                value = unescape(&s[i + 1..end]);
                i = end + 1;
            } else {
                let start = i;
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                    i += 1;
                }
                value = unescape(&s[start..i]);
            }
        } else if name.is_empty() {
            i += 1;
            continue;
        }
        attrs.push((name, value));
    }
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}
