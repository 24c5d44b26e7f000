//! An HTTP bank on axum, with the raceway tower layer: each request is one
//! execution and one atomic region.
//!
//! `POST /transfer?from=alice&to=bob&amount=30` checks the balance and moves
//! the money. The buggy handler reads both balances, releases the locks to
//! "check for fraud" (an `.await`), and writes the new balances back: two
//! concurrent transfers from the same account lose one debit, although
//! every access is under a lock. The built-in client sends two transfers
//! one after the other, so in this run they do not overlap; the embedded
//! analyzer still reports the check-then-act, predicted (a different timing
//! of the same requests interleaves them), when the guard is dropped.
//!
//! Run with `cargo run --features axum --example axum_bank`; add
//! `-- --fixed` for the corrected handler, which holds the account locks
//! across the whole transfer and gets a clean report. With `-- --serve` the
//! built-in client stays quiet and the server runs until Ctrl-C (or
//! SIGTERM): send two transfers at once (the fraud check waits for a
//! second one), stop it, and the report is printed as it shuts down
//! gracefully through `raceway::shutdown_signal()`.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use raceway::sync::tokio::Mutex;
use raceway::{track, tracked, Config, Traced};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Traced, Debug)]
struct Account {
    #[traced(key)]
    owner: String,
    balance: i64,
}

struct Bank {
    accounts: BTreeMap<String, Mutex<Account>>,
}

#[derive(serde::Deserialize)]
struct Transfer {
    from: String,
    to: String,
    amount: i64,
}

type Reply = (StatusCode, String);

fn accounts<'a>(bank: &'a Bank, t: &Transfer) -> Result<(&'a Mutex<Account>, &'a Mutex<Account>), Reply> {
    match (bank.accounts.get(&t.from), bank.accounts.get(&t.to)) {
        (Some(from), Some(to)) if t.from != t.to => Ok((from, to)),
        _ => Err((StatusCode::BAD_REQUEST, "unknown or identical accounts".into())),
    }
}

/// The bug: the balances are read, the locks released for the fraud check,
/// and the results of the stale reads written back.
#[track]
async fn transfer(State(bank): State<Arc<Bank>>, Query(t): Query<Transfer>) -> Reply {
    let (from, to) = match accounts(&bank, &t) {
        Ok(pair) => pair,
        Err(reply) => return reply,
    };
    let (from_balance, to_balance) = {
        let (f, g) = (from.lock().await, to.lock().await);
        (tracked!(f.balance), tracked!(g.balance))
    };
    if from_balance < t.amount {
        return (StatusCode::CONFLICT, "insufficient funds".into());
    }
    // The fraud check: another service's answer is awaited.
    tokio::task::yield_now().await;
    let (mut f, mut g) = (from.lock().await, to.lock().await);
    tracked!(f.balance = from_balance - t.amount);
    tracked!(g.balance = to_balance + t.amount);
    (StatusCode::OK, format!("moved {} from {} to {}", t.amount, t.from, t.to))
}

/// The fix: both accounts locked (in a fixed order) for the whole transfer.
#[track]
async fn transfer_fixed(State(bank): State<Arc<Bank>>, Query(t): Query<Transfer>) -> Reply {
    let (from, to) = match accounts(&bank, &t) {
        Ok(pair) => pair,
        Err(reply) => return reply,
    };
    let (first, second) = if t.from < t.to { (from, to) } else { (to, from) };
    let (mut a, mut b) = (first.lock().await, second.lock().await);
    let (f, g) = if t.from < t.to { (&mut a, &mut b) } else { (&mut b, &mut a) };
    if tracked!(f.balance) < t.amount {
        return (StatusCode::CONFLICT, "insufficient funds".into());
    }
    tracked!(f.balance -= t.amount);
    tracked!(g.balance += t.amount);
    (StatusCode::OK, format!("moved {} from {} to {}", t.amount, t.from, t.to))
}

fn main() {
    let fixed = std::env::args().any(|a| a == "--fixed");
    let serve = std::env::args().any(|a| a == "--serve");
    let guard =
        raceway::init(Config { service_name: "bank".into(), ..Config::from_env().expect("valid RACEWAY_* settings") })
            .expect("raceway::init");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio");

    runtime.block_on(async {
        let account = |owner: &str, balance| {
            let name = format!("{owner}'s account");
            (owner.to_string(), Mutex::with_name(Account { owner: owner.into(), balance }, name))
        };
        let bank = Arc::new(Bank {
            accounts: BTreeMap::from([account("alice", 100), account("bob", 0), account("carol", 0)]),
        });
        let handler = if fixed { post(transfer_fixed) } else { post(transfer) };
        let app = Router::new()
            .route("/transfer", handler)
            .with_state(bank.clone())
            .layer(raceway::layer::RacewayLayer::new().service_name("bank"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1");
        let url = format!("http://{}", listener.local_addr().expect("a local address"));
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let server = tokio::spawn(async move {
            // Stopped by the built-in client once it is done, or by Ctrl-C
            // or SIGTERM: either way a graceful shutdown, then the report.
            let done = async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            };
            let shutdown = async move {
                futures_util::future::select(std::pin::pin!(done), std::pin::pin!(raceway::shutdown_signal())).await;
            };
            if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
                eprintln!("server error: {e}");
            }
        });
        if serve {
            println!(
                "listening on {url}: POST {url}/transfer?from=alice&to=bob&amount=30 (twice at once); Ctrl-C stops"
            );
            let _ = server.await;
            return;
        }

        // The built-in client: two transfers out of alice's account, the
        // second sent once the first is answered.
        let client = reqwest::Client::new();
        for (to, amount) in [("bob", 30), ("carol", 50)] {
            let request = client.post(format!("{url}/transfer?from=alice&to={to}&amount={amount}"));
            let answer = async move { request.send().await?.text().await }.await;
            println!("{}", answer.unwrap_or_else(|e| format!("failed: {e}")));
        }
        let balances: Vec<String> = futures_util::future::join_all(
            bank.accounts
                .iter()
                .map(|(owner, account)| async move { format!("{owner}={}", account.lock().await.balance) }),
        )
        .await;
        println!("balances: {} (money in the bank: 100 when correct)", balances.join(" "));
        let _ = stop.send(true);
        let _ = server.await;
    });
    // Dropping the guard prints raceway's report to stderr.
    drop(guard);
}
