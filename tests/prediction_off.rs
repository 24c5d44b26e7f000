//! `RACEWAY_PREDICT=0`: only interleavings that happened are reported, so
//! the serial twins of the racy scenarios are clean, as are their clean
//! twins. One test: the environment variable is set for this binary.

#[path = "prediction/scenarios.rs"]
mod scenarios;

use scenarios::*;

#[test]
fn without_prediction_the_serial_twins_are_clean() {
    std::env::set_var("RACEWAY_PREDICT", "0");
    let ct = || tokio::runtime::Builder::new_current_thread().build().unwrap();
    let mt = || tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let reports = [
        ("serial lost update", serial_lost_update().0),
        ("serial inconsistent read", serial_inconsistent_read()),
        ("audit, then write", audit_then_write()),
        ("serial check-then-act, current_thread", serial_check_then_act(ct())),
        ("serial check-then-act, multi_thread", serial_check_then_act(mt())),
        ("serial data race", serial_data_race()),
        ("joined", joined_lost_update()),
        ("messaged", messaged_lost_update()),
        ("at once", serial_withdrawals_at_once()),
        ("flagged", flagged_lost_update()),
        ("flagged data", flagged_data()),
        ("untracked flag", untracked_flag()),
        ("message inside critical sections", message_inside_critical_sections()),
        ("serial dirty read", serial_dirty_read()),
        ("serial overwritten write", serial_overwritten_write()),
        ("messaged dirty read", messaged_dirty_read()),
        ("joined overwritten write", joined_overwritten_write()),
    ];
    for (name, report) in reports {
        assert!(report.is_clean(), "{name}: expected no race with RACEWAY_PREDICT=0:\n{report}");
        assert!(report.events_analyzed() > 0, "{name}: recorded nothing");
    }
}
