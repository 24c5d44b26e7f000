//! Work a `raceway::check` session cannot see is counted and said, never
//! silently missing. One test function in a binary of its own: with one
//! session open, unattributed work is certainly that session's (with several
//! open, sessions only note it), so the scenarios run one after another.

use raceway::tracked;

#[test]
fn work_a_check_cannot_attribute_is_counted_and_said() {
    plain_std_threads_in_a_check_are_counted_and_said_not_silently_missing();
    a_plain_tokio_task_polled_inside_a_check_is_not_taken_for_its_root();
    a_check_that_recorded_nothing_says_so();
}

fn plain_std_threads_in_a_check_are_counted_and_said_not_silently_missing() {
    let report = raceway::check(|| {
        let handles: Vec<_> = (0..3)
            .map(|_| {
                std::thread::spawn(|| {
                    let mut x = 0i64;
                    for i in 0..10 {
                        tracked!(x = i);
                    }
                    x
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
    });
    assert!(report.events_unattributed() >= 30, "{report}");
    let text = report.to_string();
    assert!(text.contains("were not started through raceway were not analyzed"), "{text}");
    assert!(text.contains("raceway::thread::spawn"), "{text}");
    assert!(text.contains("a thread"), "{text}");
    assert!(text.contains("analyzed no events"), "{text}");
    let json = report.to_json();
    assert!(json.contains("\"events_unattributed\""), "{json}");
    let outcome = std::panic::catch_unwind(|| {
        raceway::assert_race_free(|| {
            std::thread::spawn(|| {
                let mut x = 0i64;
                tracked!(x = 1);
                x
            })
            .join()
            .unwrap();
        })
    });
    assert!(outcome.is_err(), "assert_race_free must not pass on work it could not see");
}

fn a_plain_tokio_task_polled_inside_a_check_is_not_taken_for_its_root() {
    let report = raceway::check(|| {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let mut mine = 0i64;
            tracked!(mine = 1);
            tokio::spawn(async {
                let mut x = 0i64;
                tracked!(x = 2);
                x
            })
            .await
            .unwrap();
        });
    });
    assert_eq!(report.events_analyzed(), 1, "only the root's own write: {report}");
    assert_eq!(report.events_unattributed(), 1, "{report}");
    assert!(report.to_string().contains("a task"), "{report}");
}

fn a_check_that_recorded_nothing_says_so() {
    let report = raceway::check(|| {});
    assert!(report.to_string().contains("analyzed no events"), "{report}");
}
