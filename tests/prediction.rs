//! Prediction: the serial twins of the racy scenarios are reported as
//! predicted races (they did not happen in the run), and their clean twins,
//! ordered by an edge a reordering must keep, stay clean.

#[path = "prediction/scenarios.rs"]
mod scenarios;

use raceway::{RaceKind, Report};
use scenarios::*;

fn predicted(report: &Report) -> Vec<(RaceKind, bool)> {
    report.races().iter().map(|r| (r.kind(), r.is_predicted())).collect()
}

fn assert_clean(report: &Report) {
    assert!(report.is_clean(), "expected no race:\n{report}");
    assert!(report.events_analyzed() > 0, "the scenario recorded nothing");
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().build().unwrap()
}

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap()
}

#[test]
fn a_serial_lost_update_is_predicted() {
    let (report, balance) = serial_lost_update();
    assert_eq!(balance, 20, "it did not happen in this run");
    assert_eq!(predicted(&report), [(RaceKind::LostUpdate, true)], "{report}");
    let race = &report.races()[0];
    let schedule = race.schedule().expect("a predicted race gives its schedule");
    assert!(schedule.starts_with("possible lost update: if "), "{schedule}");
    assert!(schedule.contains(" between ") && schedule.contains("scenarios.rs:"), "{schedule}");
    let text = report.to_string();
    assert!(text.contains("possible lost update on *g (predicted: it did not happen in this run)"), "{text}");
    assert!(text.contains("Schedule: possible lost update"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["races"][0]["predicted"], true);
    assert!(json["races"][0]["schedule"].as_str().unwrap().starts_with("possible lost update"));
}

#[test]
fn a_serial_inconsistent_read_is_predicted() {
    let report = serial_inconsistent_read();
    assert_eq!(predicted(&report), [(RaceKind::InconsistentRead, true)], "{report}");
    // The write after both reads, once the reader has ended.
    let report = audit_then_write();
    assert_eq!(predicted(&report), [(RaceKind::InconsistentRead, true)], "{report}");
}

/// `tracked!(*g -= 1)` reads then writes: the region's pairs are the two
/// reads (the check, then the act's read) and the act's read and write (one
/// critical section): the other task's write between the two reads is the
/// predicted violation, as the observed suite's twin accepts.
fn assert_check_then_act_predicted(report: &Report) {
    let races = predicted(report);
    assert_eq!(races.len(), 1, "{report}");
    assert!(matches!(races[0], (RaceKind::InconsistentRead | RaceKind::LostUpdate, true)), "{report}");
}

#[test]
fn a_serial_check_then_act_is_predicted_on_current_thread() {
    let report = serial_check_then_act(current_thread());
    assert_check_then_act_predicted(&report);
}

#[test]
fn a_serial_check_then_act_is_predicted_on_multi_thread() {
    let report = serial_check_then_act(multi_thread());
    assert_check_then_act_predicted(&report);
}

#[test]
fn a_data_race_ordered_only_by_unrelated_critical_sections_is_predicted() {
    let report = serial_data_race();
    assert_eq!(predicted(&report), [(RaceKind::DataRace, true)], "{report}");
}

#[test]
fn a_serial_dirty_read_is_predicted() {
    let report = serial_dirty_read();
    assert_eq!(predicted(&report), [(RaceKind::DirtyRead, true)], "{report}");
    let schedule = report.races()[0].schedule().expect("a predicted race gives its schedule");
    assert!(schedule.starts_with("possible dirty read: if "), "{schedule}");
    assert!(schedule.contains(" between "), "{schedule}");
}

#[test]
fn a_serial_overwritten_write_is_predicted() {
    let report = serial_overwritten_write();
    assert_eq!(predicted(&report), [(RaceKind::OverwrittenWrite, true)], "{report}");
    let schedule = report.races()[0].schedule().expect("a predicted race gives its schedule");
    assert!(schedule.contains(" between "), "{schedule}");
}

#[test]
fn clean_dirty_read_and_overwritten_write_twins() {
    assert_clean(&messaged_dirty_read());
    assert_clean(&joined_overwritten_write());
}

#[test]
fn clean_when_ordered_by_a_join() {
    assert_clean(&joined_lost_update());
}

#[test]
fn clean_when_ordered_by_a_message() {
    assert_clean(&messaged_lost_update());
    assert_clean(&messaged_inconsistent_read());
}

#[test]
fn clean_when_the_lock_covers_the_whole_read_modify_write() {
    assert_clean(&serial_withdrawals_at_once());
}

#[test]
fn clean_when_a_flag_written_under_the_lock_is_awaited() {
    assert_clean(&flagged_lost_update());
    assert_clean(&flagged_data());
}

#[test]
fn clean_when_the_second_task_starts_after_joining_the_first() {
    assert_clean(&joined_check_then_act(current_thread()));
    assert_clean(&joined_check_then_act(multi_thread()));
}

#[test]
fn clean_when_an_untracked_flag_under_the_lock_orders() {
    assert_clean(&untracked_flag());
}

#[test]
fn clean_when_a_message_crosses_critical_sections_of_one_lock() {
    assert_clean(&message_inside_critical_sections());
}

#[test]
fn assert_race_free_fails_on_a_predicted_race() {
    let failed = std::panic::catch_unwind(|| {
        raceway::assert_race_free(|| {
            let account = raceway::sync::Mutex::new(100i64);
            one_after_the_other(|| withdraw_at_once(&account, 50), || withdraw_in_two_steps(&account, 30));
        })
    });
    assert!(failed.is_err(), "a predicted race fails assert_race_free");
}
