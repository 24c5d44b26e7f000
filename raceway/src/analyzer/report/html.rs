//! The HTML report: one self-contained page (inline CSS and SVG, no script,
//! no font or image to fetch) that draws each race as the interleaving it
//! is.
//!
//! Each race is a figure with one lane per execution, time flowing down,
//! and its accesses placed on their execution's lane with their source
//! location, function, value and locks. Arrows are the happens-before edges
//! the analysis established between them: program order within a lane, and
//! [`Race::happens_before`] between the first access and the second. A data
//! race's two accesses are joined by a dashed line marked "no
//! happens-before". The access that breaks an atomic region (an atomicity
//! violation's interleaved access) is drawn in red; a data race's two
//! accesses in orange.
//!
//! The DOM is stable, for tools and tests: every race is a
//! `section.race[data-kind][data-variable]`; in it each schedule is a
//! `figure.schedule[data-schedule]` (`observed`; a predicted race adds
//! `predicted` beside it, see [`schedules`]) whose SVG holds one
//! `g.lane[data-execution]` per execution, and each access is a
//! `g.access[data-execution][data-role][data-event]` inside its execution's
//! lane, `data-role` one of `region-start`, `first`, `second`.

use super::{Access, Race, RaceKind, Report};
use crate::event::AccessType;
use crate::value::Value;
use std::fmt::Write;

/// The width of a lane, and the space its access boxes leave at each side.
const LANE_WIDTH: usize = 360;
const LANE_PAD: usize = 12;
/// The height of the lane headers, and of one step of time.
const HEADER: usize = 64;
const ROW: usize = 104;
const BOX_HEIGHT: usize = 78;

impl Report {
    /// The report as one self-contained HTML page: the interleaving of each
    /// race drawn on one lane per execution.
    ///
    /// # The page
    ///
    /// No network access, script or external font: inline CSS and SVG
    /// only. Each race: its lanes, time flowing down, its accesses with
    /// their source lines and values, the happens-before edges that exist
    /// as arrows, the access that broke the region in red, then a table of
    /// the accesses in full. The text report follows, folded.
    /// `RACEWAY_REPORT=report.html` and `raceway analyze --html report.html`
    /// write it.
    pub fn to_html(&self) -> String {
        let mut out = String::with_capacity(8192 + self.races.len() * 6144);
        let text = self.render(false);
        let summary = text.lines().find(|l| l.starts_with("SUMMARY: ")).unwrap_or("").trim_start_matches("SUMMARY: ");
        out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        let _ = writeln!(out, "<title>Raceway report: {}</title>", esc(summary));
        out.push_str(STYLE);
        out.push_str("</head>\n<body>\n");
        out.push_str(MARKERS);
        let status = if self.races.is_empty() { "clean" } else { "races" };
        let _ = writeln!(
            out,
            "<header class=\"summary {status}\" data-races=\"{}\" data-events=\"{}\" data-executions=\"{}\">\n<h1>Raceway report</h1>\n<p class=\"verdict\">{}</p>\n<p class=\"counts\">{} analyzed: {}, {}</p>\n</header>",
            self.races.len(),
            self.events_analyzed,
            self.executions,
            esc(summary),
            plural(self.events_analyzed, "event"),
            plural(self.executions, "execution"),
            plural(self.variables, "variable"),
        );
        // The warnings and notes the text report ends with: the verdicts'
        // limits belong on the page too.
        let notes: Vec<&str> =
            text.lines().filter(|l| l.starts_with("WARNING: raceway: ") && !is_race_title(l, self)).collect();
        let notes: Vec<&str> = notes.into_iter().chain(text.lines().filter(|l| l.starts_with("NOTE: "))).collect();
        if !notes.is_empty() {
            out.push_str("<ul class=\"notes\">\n");
            for note in notes {
                let _ = writeln!(out, "<li>{}</li>", esc(note));
            }
            out.push_str("</ul>\n");
        }
        out.push_str(LEGEND);
        for (i, race) in self.races.iter().enumerate() {
            race_section(&mut out, i + 1, race);
        }
        let _ = writeln!(
            out,
            "<details class=\"text-report\"><summary>Text report</summary>\n<pre>{}</pre>\n</details>",
            esc(&text)
        );
        out.push_str("</body>\n</html>\n");
        out
    }
}

fn plural(n: u64, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

fn is_race_title(line: &str, report: &Report) -> bool {
    report.races.iter().any(|r| line.starts_with(&format!("WARNING: raceway: {} on {}", r.kind, r.variable)))
}

/// An access's part in its race.
#[derive(Clone, Copy, PartialEq)]
enum Role {
    /// An atomicity violation's region start (the read of a lost update).
    RegionStart,
    /// The earlier access: for a violation, the other execution's access
    /// that broke the region.
    First,
    /// The later access.
    Second,
}

impl Role {
    fn attr(self) -> &'static str {
        match self {
            Role::RegionStart => "region-start",
            Role::First => "first",
            Role::Second => "second",
        }
    }

    fn label(self, kind: RaceKind) -> &'static str {
        match (self, kind) {
            (Role::RegionStart, _) => "Region start",
            (Role::First, RaceKind::DataRace) => "Previous",
            (Role::First, _) => "Interleaved",
            (Role::Second, _) => "Then",
        }
    }
}

/// One access at its place in a schedule.
struct Step<'a> {
    role: Role,
    access: &'a Access,
}

/// The observed schedule: the accesses in the order they happened (the
/// analysis order: region start, then first, then second).
fn observed(race: &Race) -> Vec<Step<'_>> {
    let [first, second] = &race.accesses;
    let mut steps = Vec::with_capacity(3);
    if let Some(start) = &race.region_start {
        steps.push(Step { role: Role::RegionStart, access: start });
    }
    steps.push(Step { role: Role::First, access: first });
    steps.push(Step { role: Role::Second, access: second });
    steps
}

/// The schedules a race's figure draws side by side, with their
/// `data-schedule` name and caption: the observed one, always; for a
/// predicted race ([`Race::is_predicted`]), the reordering that makes it
/// happen beside it, with the same lanes.
fn schedules(race: &Race) -> Vec<(&'static str, &'static str, Vec<Step<'_>>)> {
    if !race.predicted {
        return vec![("observed", "Observed interleaving", observed(race))];
    }
    // The predicted order is region start, interleaved access, then the
    // second; in the run, the interleaved access came before the region
    // or after it.
    let predicted = observed(race);
    let mut ran = Vec::with_capacity(3);
    let [first, second] = &race.accesses;
    let interleaved = Step { role: Role::First, access: first };
    if race.interleaved_ran_first {
        ran.push(interleaved);
    }
    if let Some(start) = &race.region_start {
        ran.push(Step { role: Role::RegionStart, access: start });
    }
    ran.push(Step { role: Role::Second, access: second });
    if !race.interleaved_ran_first {
        ran.push(Step { role: Role::First, access: first });
    }
    vec![("observed", "Observed (no race happened)", ran), ("predicted", "Predicted reordering", predicted)]
}

fn race_section(out: &mut String, n: usize, race: &Race) {
    let kind = serde_json::to_value(race.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    let _ = writeln!(
        out,
        "<section class=\"race {kind}\" id=\"race-{n}\" data-kind=\"{kind}\" data-variable=\"{}\" data-count=\"{}\">",
        esc(&race.variable),
        race.count
    );
    let times =
        if race.count == 1 { String::new() } else { format!(" <span class=\"count\">({} times)</span>", race.count) };
    let (possible, predicted) = if race.predicted {
        ("possible ", " <span class=\"predicted\">(predicted: it did not happen in this run)</span>")
    } else {
        ("", "")
    };
    let _ = writeln!(
        out,
        "<h2>{n}. {possible}{} on <code>{}</code>{times}{predicted}</h2>",
        esc(race.kind.describe()),
        esc(&race.variable)
    );
    let _ = writeln!(out, "<p class=\"why\">{}</p>", esc(&race.explanation));
    if let Some(schedule) = &race.schedule {
        let _ = writeln!(out, "<p class=\"schedule\">{}</p>", esc(schedule));
    }
    let schedules = schedules(race);
    // One lane per execution, in the order they first act, shared by the
    // schedules so that they line up.
    let mut lanes: Vec<(&str, &str)> = Vec::new();
    for (_, _, steps) in &schedules {
        for step in steps {
            if !lanes.iter().any(|(e, _)| *e == step.access.execution) {
                lanes.push((&step.access.execution, &step.access.service));
            }
        }
    }
    out.push_str("<div class=\"schedules\">\n");
    for (name, caption, steps) in &schedules {
        schedule_figure(out, race, name, caption, &lanes, steps);
    }
    out.push_str("</div>\n");
    access_table(out, race);
    out.push_str("</section>\n");
}

fn lane_x(lane: usize) -> usize {
    lane * LANE_WIDTH
}

fn row_y(row: usize) -> usize {
    HEADER + row * ROW
}

fn schedule_figure(
    out: &mut String,
    race: &Race,
    name: &str,
    caption: &str,
    lanes: &[(&str, &str)],
    steps: &[Step<'_>],
) {
    let width = lanes.len() * LANE_WIDTH;
    let height = row_y(steps.len()) + 8;
    let lane_of = |s: &Step<'_>| lanes.iter().position(|(e, _)| *e == s.access.execution).unwrap_or(0);
    let _ = writeln!(
        out,
        "<figure class=\"schedule {name}\" data-schedule=\"{name}\">\n<figcaption>{caption}</figcaption>"
    );
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"lanes\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{} on {}: {caption}\">",
        esc(race.kind.describe()),
        esc(&race.variable)
    );
    for (lane, (execution, service)) in lanes.iter().enumerate() {
        let x = lane_x(lane);
        let mid = x + LANE_WIDTH / 2;
        let _ = writeln!(out, "<g class=\"lane\" data-execution=\"{}\" data-x=\"{x}\">", esc(execution));
        let _ = writeln!(
            out,
            "<rect class=\"lane-bg\" x=\"{}\" y=\"0\" width=\"{}\" height=\"{height}\" rx=\"6\"></rect>",
            x + 4,
            LANE_WIDTH - 8
        );
        let _ = writeln!(
            out,
            "<text class=\"lane-name\" x=\"{mid}\" y=\"24\" text-anchor=\"middle\">{}<title>{}</title></text>",
            esc(&clip(execution, 40)),
            esc(execution)
        );
        let _ = writeln!(
            out,
            "<text class=\"lane-service\" x=\"{mid}\" y=\"42\" text-anchor=\"middle\">{}</text>",
            esc(&clip(service, 44))
        );
        let _ = writeln!(
            out,
            "<line class=\"timeline\" x1=\"{mid}\" y1=\"{}\" x2=\"{mid}\" y2=\"{}\"></line>",
            HEADER - 8,
            height - 4
        );
        for (row, step) in steps.iter().enumerate().filter(|(_, s)| lane_of(s) == lane) {
            access_box(out, race, step, x, row_y(row));
        }
        out.push_str("</g>\n");
    }
    edges(out, race, steps, &lane_of);
    out.push_str("</svg>\n</figure>\n");
}

/// The arrows: program order between consecutive accesses of one lane,
/// the recorded happens-before edge from the first access to the second,
/// and for a data race the dashed "no happens-before" line between them.
fn edges(out: &mut String, race: &Race, steps: &[Step<'_>], lane_of: &dyn Fn(&Step<'_>) -> usize) {
    let center = |row: usize, lane: usize| (lane_x(lane) + LANE_WIDTH / 2, row_y(row) + BOX_HEIGHT / 2);
    for (row, step) in steps.iter().enumerate() {
        let lane = lane_of(step);
        if let Some(next) = steps.iter().enumerate().skip(row + 1).find(|(_, s)| lane_of(s) == lane).map(|(r, _)| r) {
            let (x, _) = center(row, lane);
            let _ = writeln!(
                out,
                "<line class=\"edge program-order\" data-from=\"{}\" data-to=\"{}\" x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" marker-end=\"url(#raceway-arrow-po)\"><title>program order</title></line>",
                step.role.attr(),
                steps[next].role.attr(),
                row_y(row) + BOX_HEIGHT,
                row_y(next) - 3
            );
        }
    }
    let find = |role: Role| steps.iter().enumerate().find(|(_, s)| s.role == role);
    let (Some((r1, first)), Some((r2, second))) = (find(Role::First), find(Role::Second)) else { return };
    let (l1, l2) = (lane_of(first), lane_of(second));
    if l1 == l2 {
        return;
    }
    // From the side of the first box to the side of the second that face
    // each other.
    let (x1, x2) = if l1 < l2 {
        (lane_x(l1) + LANE_WIDTH - LANE_PAD, lane_x(l2) + LANE_PAD)
    } else {
        (lane_x(l1) + LANE_PAD, lane_x(l2) + LANE_WIDTH - LANE_PAD)
    };
    let (y1, y2) = (center(r1, l1).1, center(r2, l2).1);
    let (label_x, label_y) = ((x1 + x2) / 2, (y1 + y2) / 2 - 6);
    if race.happens_before {
        let _ = writeln!(
            out,
            "<line class=\"edge hb\" data-from=\"first\" data-to=\"second\" x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\" marker-end=\"url(#raceway-arrow-hb)\"><title>happens before: synchronization ordered these accesses</title></line>\n<text class=\"edge-label hb\" x=\"{label_x}\" y=\"{label_y}\" text-anchor=\"middle\">happens before</text>"
        );
    } else if race.kind == RaceKind::DataRace {
        let _ = writeln!(
            out,
            "<line class=\"edge unordered\" data-from=\"first\" data-to=\"second\" x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\"><title>nothing ordered these accesses</title></line>\n<text class=\"edge-label unordered\" x=\"{label_x}\" y=\"{label_y}\" text-anchor=\"middle\">no happens-before</text>"
        );
    }
}

fn access_box(out: &mut String, race: &Race, step: &Step<'_>, lane_x: usize, y: usize) {
    let a = step.access;
    let highlight = match (race.kind, step.role) {
        (RaceKind::DataRace, _) => " conflict",
        (_, Role::First) => " breaks",
        _ => "",
    };
    let (x, width) = (lane_x + LANE_PAD, LANE_WIDTH - 2 * LANE_PAD);
    let _ = writeln!(
        out,
        "<g class=\"access{highlight}\" data-execution=\"{}\" data-role=\"{}\" data-event=\"{}\" data-location=\"{}\">",
        esc(&a.execution),
        step.role.attr(),
        esc(&a.event_id),
        esc(&a.location)
    );
    let _ = writeln!(
        out,
        "<title>{}: {} {} at {}{}, by {}</title>",
        step.role.label(race.kind),
        verb(a.access_type),
        esc(&value(a)),
        esc(&a.location),
        esc(&a.function.as_deref().map(|f| format!(" in {f}")).unwrap_or_default()),
        esc(&a.execution)
    );
    let _ = writeln!(out, "<rect x=\"{x}\" y=\"{y}\" width=\"{width}\" height=\"{BOX_HEIGHT}\" rx=\"5\"></rect>");
    let tx = x + 10;
    let _ = writeln!(
        out,
        "<text class=\"what\" x=\"{tx}\" y=\"{}\"><tspan class=\"role\">{}:</tspan> {} {}</text>",
        y + 20,
        step.role.label(race.kind),
        verb(a.access_type),
        esc(&clip(&value(a), 30))
    );
    let _ = writeln!(out, "<text class=\"where\" x=\"{tx}\" y=\"{}\">{}</text>", y + 40, esc(&clip(&a.location, 46)));
    let function = a.function.as_deref().unwrap_or("(no #[track] function)");
    let _ = writeln!(out, "<text class=\"function\" x=\"{tx}\" y=\"{}\">{}</text>", y + 57, esc(&clip(function, 46)));
    let _ = writeln!(out, "<text class=\"locks\" x=\"{tx}\" y=\"{}\">{}</text>", y + 72, esc(&clip(&locks(a), 50)));
    out.push_str("</g>\n");
}

fn access_table(out: &mut String, race: &Race) {
    out.push_str("<table class=\"accesses\">\n<thead><tr><th></th><th>access</th><th>value</th><th>location</th><th>function</th><th>execution</th><th>service</th><th>locks held</th><th>trace</th></tr></thead>\n<tbody>\n");
    for step in observed(race) {
        let a = step.access;
        let _ = writeln!(
            out,
            "<tr data-role=\"{}\"><th>{}</th><td>{}</td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            step.role.attr(),
            step.role.label(race.kind),
            verb(a.access_type),
            esc(&value(a)),
            esc(&a.location),
            esc(a.function.as_deref().unwrap_or("")),
            esc(&a.execution),
            esc(&a.service),
            esc(&a.locks.join(", ")),
            esc(&a.trace_id)
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

fn verb(access: AccessType) -> &'static str {
    match access {
        AccessType::Read => "read",
        AccessType::Write => "write",
        AccessType::AtomicRead => "atomic read",
        AccessType::AtomicWrite => "atomic write",
        AccessType::AtomicRMW => "atomic read-modify-write",
    }
}

/// The value read or written, and the one a write replaced.
fn value(a: &Access) -> String {
    match (&a.old_value, a.access_type.is_write()) {
        (Some(old), true) if *old != Value::Null => format!("{} (was {old})", a.new_value),
        _ => a.new_value.to_string(),
    }
}

fn locks(a: &Access) -> String {
    if a.locks.is_empty() {
        "holding no locks".into()
    } else {
        format!("holding {}", a.locks.join(", "))
    }
}

/// At most `max` characters, with an ellipsis when cut (the full text is
/// in the box's tooltip and in the table).
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// Escapes text for HTML content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The arrowheads, defined once for every figure.
const MARKERS: &str = r##"<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>
<marker id="raceway-arrow-po" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#6b7280"></path></marker>
<marker id="raceway-arrow-hb" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#2563eb"></path></marker>
</defs></svg>
"##;

const LEGEND: &str = r#"<p class="legend">Time flows down; one lane per execution. <span class="key breaks">red</span>: the access that broke the atomic region; <span class="key conflict">orange</span>: the two accesses of a data race; <span class="key hb">blue arrow</span>: a happens-before edge the analysis recorded between them (lock hand-off, message, join, propagated call); grey arrow: program order; dashed: nothing ordered them.</p>
"#;

const STYLE: &str = r#"<style>
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; margin: 24px; color: #111827; background: #f9fafb; }
code, pre, svg text { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; }
h1 { margin: 0 0 4px; font-size: 22px; }
h2 { font-size: 18px; margin: 0 0 6px; }
header.summary { padding: 12px 16px; border-radius: 8px; margin-bottom: 12px; }
header.summary.races { background: #fef2f2; border: 1px solid #fecaca; }
header.summary.clean { background: #f0fdf4; border: 1px solid #bbf7d0; }
.verdict { font-weight: 600; margin: 4px 0; }
.counts { margin: 0; color: #4b5563; font-size: 14px; }
.notes { background: #fffbeb; border: 1px solid #fde68a; border-radius: 8px; padding: 8px 8px 8px 28px; font-size: 14px; }
.legend { font-size: 13px; color: #4b5563; }
.key { font-weight: 600; }
.key.breaks { color: #b91c1c; } .key.conflict { color: #c2410c; } .key.hb { color: #2563eb; }
section.race { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 14px 16px; margin: 16px 0; }
.why { margin: 0 0 10px; max-width: 70em; }
.count { color: #6b7280; font-weight: normal; }
.schedules { display: flex; flex-wrap: wrap; gap: 24px; }
figure.schedule { margin: 0; overflow-x: auto; }
figcaption { font-size: 13px; font-weight: 600; color: #374151; margin-bottom: 4px; }
.lane-bg { fill: #f3f4f6; }
.lane-name { font-size: 13px; font-weight: 700; fill: #111827; }
.lane-service { font-size: 11px; fill: #6b7280; }
.timeline { stroke: #d1d5db; stroke-width: 2; stroke-dasharray: 2 4; }
.access rect { fill: #ffffff; stroke: #9ca3af; stroke-width: 1.5; }
.access.breaks rect { fill: #fee2e2; stroke: #dc2626; stroke-width: 3; }
.access.conflict rect { fill: #ffedd5; stroke: #ea580c; stroke-width: 3; }
.access text { font-size: 11.5px; fill: #374151; }
.access text.what { font-size: 12.5px; font-weight: 700; fill: #111827; }
.access .role { fill: #6b7280; font-weight: 600; }
.access text.where { fill: #1d4ed8; }
.edge.program-order { stroke: #6b7280; stroke-width: 1.5; }
.edge.hb { stroke: #2563eb; stroke-width: 2.5; }
.edge.unordered { stroke: #ea580c; stroke-width: 2; stroke-dasharray: 6 5; }
.edge-label { font-size: 11px; font-weight: 700; paint-order: stroke; stroke: #f3f4f6; stroke-width: 5px; stroke-linejoin: round; }
.edge-label.hb { fill: #2563eb; } .edge-label.unordered { fill: #c2410c; }
table.accesses { border-collapse: collapse; margin-top: 12px; font-size: 12.5px; }
table.accesses th, table.accesses td { border: 1px solid #e5e7eb; padding: 3px 7px; text-align: left; vertical-align: top; }
table.accesses thead th { background: #f9fafb; }
details.text-report pre { background: #111827; color: #e5e7eb; padding: 12px; border-radius: 6px; overflow-x: auto; font-size: 12px; }
</style>
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn access(execution: &str, access_type: AccessType, new: i64, location: &str) -> Access {
        Access {
            access_type,
            old_value: None,
            new_value: Value::I64(new),
            location: location.into(),
            function: Some("bank::withdraw".into()),
            execution: execution.into(),
            service: "bank".into(),
            trace_id: "t".into(),
            locks: vec!["alice's account@0x1".into()],
            event_id: format!("{execution}-{location}"),
        }
    }

    fn lost_update() -> Race {
        Race {
            kind: RaceKind::LostUpdate,
            variable: "Account[<alice>].balance".into(),
            count: 1,
            also_unsynchronized: false,
            explanation: "teller-50 read ... & wrote it back".into(),
            accesses: [
                access("teller-30", AccessType::Write, 70, "bank.rs:35:14"),
                access("teller-50", AccessType::Write, 50, "bank.rs:35:14"),
            ],
            region_start: Some(access("teller-50", AccessType::Read, 100, "bank.rs:29:18")),
            happens_before: true,
            predicted: false,
            schedule: None,
            interleaved_ran_first: false,
        }
    }

    #[test]
    fn a_predicted_race_is_drawn_as_it_ran_and_as_predicted() {
        let race = Race {
            predicted: true,
            schedule: Some("possible lost update: if teller-30 runs bank.rs:35 between ...".into()),
            interleaved_ran_first: true,
            ..lost_update()
        };
        let html = Report { races: vec![race], events_analyzed: 24, ..Report::default() }.to_html();
        assert!(html.contains("possible lost update on"), "the heading says possible");
        assert!(html.contains("(predicted: it did not happen in this run)"));
        assert!(html.contains("class=\"schedule\">possible lost update: if teller-30"));
        assert_eq!(html.matches("data-schedule=\"observed\"").count(), 1);
        assert_eq!(html.matches("data-schedule=\"predicted\"").count(), 1);
    }

    #[test]
    fn a_page_is_self_contained_and_escapes_what_it_shows() {
        let report = Report { races: vec![lost_update()], events_analyzed: 24, executions: 3, ..Report::default() };
        let html = report.to_html();
        assert!(html.starts_with("<!DOCTYPE html>"));
        for external in ["<script", "<link", "@import", "url(http", "src=\"http", "@font-face"] {
            assert!(!html.contains(external), "{external}");
        }
        assert!(html.contains("Account[&lt;alice&gt;].balance"), "names are escaped");
        assert!(html.contains("read ... &amp; wrote"));
        assert!(!html.contains("<alice>"));
        assert_eq!(html.matches("class=\"lane\"").count(), 2, "one lane per execution");
        assert_eq!(html.matches("class=\"access breaks\"").count(), 1, "the interleaved write is highlighted");
        assert!(html.contains("class=\"edge hb\""), "the lock's edge is drawn");
    }

    #[test]
    fn a_data_race_is_drawn_unordered_and_a_clean_report_says_so() {
        let mut race = lost_update();
        race.kind = RaceKind::DataRace;
        race.region_start = None;
        race.happens_before = false;
        let html = Report { races: vec![race], ..Report::default() }.to_html();
        assert!(html.contains("class=\"edge unordered\"") && !html.contains("class=\"edge hb\""));
        assert_eq!(html.matches("class=\"access conflict\"").count(), 2);
        let clean = Report { events_analyzed: 5, ..Report::default() }.to_html();
        assert!(clean.contains("raceway found no races in 5 events") && !clean.contains("<section"));
    }
}
