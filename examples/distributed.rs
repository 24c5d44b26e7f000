//! A lost update across services, found by following the trace.
//!
//! Three axum services run in this process on 127.0.0.1, each with the
//! raceway tower layer and its own `service_name`:
//!
//! - `gateway` takes `POST /checkout` and calls the two others at once
//!   through `raceway::request`, which carries the trace and the clock;
//! - `payments` debits the customer's wallet by the price;
//! - `rewards` credits the wallet with 5% cash back.
//!
//! Both downstream services read the wallet, do their slow part, and write
//! the new balance back, each access under the wallet's lock. Two checkouts
//! at once lose updates, inside each service and across the two. The
//! analyzer sees both services' accesses in one trace and reports them, with
//! the location in each service.
//!
//! Run with `cargo run --features axum --example distributed`. It needs no Raceway server:
//! the report comes from the embedded analyzer.

use axum::extract::State;
use axum::routing::post;
use axum::Router;
use raceway::layer::RacewayLayer;
use raceway::{track, tracked, Config, Traced};
use std::sync::Arc;

#[derive(Traced, Debug)]
struct Wallet {
    #[traced(key)]
    customer: String,
    balance: i64,
}

/// What payments and rewards share: the database.
struct Db {
    wallet: raceway::sync::Mutex<Wallet>,
    /// Stands in for the slow part of each handler (a fraud check, a rate
    /// lookup): every handler has read the balance before any writes, so
    /// each run shows the race.
    all_read: tokio::sync::Barrier,
}

const PRICE: i64 = 40;
const CHECKOUTS: usize = 2;

/// payments: reads the balance, checks for fraud, writes `balance - price`.
#[track]
async fn charge(State(db): State<Arc<Db>>) -> String {
    let balance = {
        let wallet = db.wallet.lock().unwrap();
        tracked!(wallet.balance)
    };
    db.all_read.wait().await;
    let mut wallet = db.wallet.lock().unwrap();
    tracked!(wallet.balance = balance - PRICE);
    format!("charged {PRICE}")
}

/// rewards: reads the balance, looks up the cash-back rate, writes
/// `balance + 5%`.
#[track]
async fn cashback(State(db): State<Arc<Db>>) -> String {
    let balance = {
        let wallet = db.wallet.lock().unwrap();
        tracked!(wallet.balance)
    };
    db.all_read.wait().await;
    let mut wallet = db.wallet.lock().unwrap();
    tracked!(wallet.balance = balance + PRICE / 20);
    format!("cash back {}", PRICE / 20)
}

#[derive(Clone)]
struct Gateway {
    http: reqwest::Client,
    payments: String,
    rewards: String,
}

#[track]
async fn checkout(State(gw): State<Gateway>) -> String {
    let (paid, rewarded) = tokio::join!(
        raceway::request(gw.http.post(format!("{}/charge", gw.payments))),
        raceway::request(gw.http.post(format!("{}/cashback", gw.rewards))),
    );
    let text = |r: reqwest::Result<reqwest::Response>| async move {
        match r {
            Ok(response) => response.text().await.unwrap_or_else(|e| e.to_string()),
            Err(e) => format!("failed: {e}"),
        }
    };
    format!("{}; {}", text(paid).await, text(rewarded).await)
}

/// Serves `app` on an ephemeral port of 127.0.0.1 until `stop` says so.
async fn serve(app: Router, mut stop: tokio::sync::watch::Receiver<bool>) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1");
    let url = format!("http://{}", listener.local_addr().expect("a local address"));
    let server = tokio::spawn(async move {
        // Stopped once the checkouts are done, or by Ctrl-C or SIGTERM: a
        // graceful shutdown either way, and the report.
        let done = async move {
            let _ = stop.wait_for(|stop| *stop).await;
        };
        let stopped = async move {
            futures_util::future::select(std::pin::pin!(done), std::pin::pin!(raceway::shutdown_signal())).await;
        };
        if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(stopped).await {
            eprintln!("server error: {e}");
        }
    });
    (url, server)
}

fn main() {
    let guard =
        raceway::init(Config { service_name: "shop".into(), ..Config::from_env().expect("valid RACEWAY_* settings") })
            .expect("raceway::init");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio");

    runtime.block_on(async {
        let db = Arc::new(Db {
            wallet: raceway::sync::Mutex::with_name(Wallet { customer: "alice".into(), balance: 100 }, "wallet"),
            all_read: tokio::sync::Barrier::new(2 * CHECKOUTS),
        });
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let (payments, payments_server) = serve(
            Router::new()
                .route("/charge", post(charge))
                .with_state(db.clone())
                .layer(RacewayLayer::new().service_name("payments")),
            stopped.clone(),
        )
        .await;
        let (rewards, rewards_server) = serve(
            Router::new()
                .route("/cashback", post(cashback))
                .with_state(db.clone())
                .layer(RacewayLayer::new().service_name("rewards")),
            stopped.clone(),
        )
        .await;
        let gateway = Gateway { http: reqwest::Client::new(), payments, rewards };
        let (gateway, gateway_server) = serve(
            Router::new()
                .route("/checkout", post(checkout))
                .with_state(gateway)
                .layer(RacewayLayer::new().service_name("gateway")),
            stopped.clone(),
        )
        .await;

        // Concurrent checkouts from a plain (uninstrumented) client.
        let client = reqwest::Client::new();
        let checkouts = (0..CHECKOUTS).map(|_| {
            let request = client.post(format!("{gateway}/checkout"));
            async move { request.send().await?.text().await }
        });
        for (n, answer) in futures_util::future::join_all(checkouts).await.into_iter().enumerate() {
            println!("checkout {}: {}", n + 1, answer.unwrap_or_else(|e| format!("failed: {e}")));
        }

        let expected = 100 + CHECKOUTS as i64 * (PRICE / 20 - PRICE);
        println!("alice's balance: {} (expected {expected})", db.wallet.lock().unwrap().balance);
        let _ = stop.send(true);
        for server in [gateway_server, payments_server, rewards_server] {
            let _ = server.await;
        }
    });
    // Dropping the guard prints raceway's report to stderr.
    drop(guard);
}
