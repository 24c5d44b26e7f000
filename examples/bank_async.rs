//! Check-then-act across an `.await`, on tokio: two purchases of the last
//! item in stock both see it available, both sell it.
//!
//! Every access is under a `raceway::sync::tokio::Mutex`, so nothing is a
//! data race; the lost update is in the handler's logic, between the check
//! and the act. `cargo run --features tokio --example bank_async` prints the report (add
//! `-- --fixed` for the version that checks and acts under one lock).

use raceway::sync::tokio::Mutex;
use raceway::{track, tracked};
use std::sync::Arc;

#[track]
async fn buy(stock: &Mutex<i64>) -> bool {
    let available = {
        let g = stock.lock().await;
        tracked!(*g) > 0
    };
    // Charge the card: another task runs meanwhile.
    tokio::task::yield_now().await;
    if available {
        let mut g = stock.lock().await;
        tracked!(*g -= 1);
    }
    available
}

#[track]
async fn buy_fixed(stock: &Mutex<i64>) -> bool {
    let mut g = stock.lock().await;
    let available = tracked!(*g) > 0;
    tokio::task::yield_now().await;
    if available {
        tracked!(*g -= 1);
    }
    available
}

fn main() {
    let fixed = std::env::args().any(|a| a == "--fixed");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    let stock = Arc::new(Mutex::with_name(1i64, "stock"));
    let report = raceway::check(|| {
        runtime.block_on(async {
            let buyers: Vec<_> = (0..2)
                .map(|_| {
                    let stock = stock.clone();
                    raceway::task::spawn(async move {
                        if fixed {
                            buy_fixed(&stock).await
                        } else {
                            buy(&stock).await
                        }
                    })
                })
                .collect();
            for buyer in buyers {
                let sold = buyer.await.expect("the buyer task");
                println!("sold: {sold}");
            }
        });
    });
    println!("stock left: {} (never below 0 when correct)", stock.try_lock().map(|g| *g).unwrap_or(i64::MIN));
    print!("{report}");
}
