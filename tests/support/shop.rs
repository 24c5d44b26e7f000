//! Three real services on 127.0.0.1 for the cross-service tests: a gateway
//! that calls an inventory and a payments service, each an axum server with
//! the raceway tower layer and its own `service_name`.
//!
//! One checkout does, in order:
//! 1. gateway: writes `Order[o-1].status` (no lock: only the call's clock
//!    orders it before inventory's read);
//! 2. gateway calls inventory and payments concurrently, through
//!    `raceway::request`;
//! 3. inventory: reads `Order[o-1].status`, writes `Order[o-1].reserved`,
//!    and both services read, then write back, `Ledger[acme].balance`
//!    under a tracked lock, after a barrier that makes both read first: a
//!    lost update across services;
//! 4. gateway, after the responses: reads `Order[o-1].reserved` (ordered
//!    after inventory's write only by the response's clock).
//!
//! The barrier is a tokio barrier, which raceway does not see: it orders
//! real time without adding a happens-before edge.

use crate::server::Server;
use axum::extract::State;
use axum::routing::post;
use axum::Router;
use raceway::layer::RacewayLayer;
use raceway::{tracked, Traced};
use std::sync::Arc;

#[derive(Traced)]
pub struct Order {
    #[traced(key)]
    pub id: String,
    pub status: &'static str,
    pub reserved: bool,
}

#[derive(Traced)]
pub struct Ledger {
    #[traced(key)]
    pub id: String,
    pub balance: i64,
}

/// What the three services share: the "database".
pub struct Db {
    /// Unlocked on purpose (a `std` mutex raceway does not see): only
    /// the calls' clocks order its accesses.
    pub order: std::sync::Mutex<Order>,
    pub ledger: raceway::sync::Mutex<Ledger>,
    pub both_read: tokio::sync::Barrier,
}

impl Db {
    pub fn new() -> Arc<Db> {
        Arc::new(Db {
            order: std::sync::Mutex::new(Order { id: "o-1".into(), status: "new", reserved: false }),
            ledger: raceway::sync::Mutex::with_name(Ledger { id: "acme".into(), balance: 100 }, "ledger"),
            both_read: tokio::sync::Barrier::new(2),
        })
    }
}

#[derive(Clone)]
struct Downstream {
    db: Arc<Db>,
    http: reqwest::Client,
    inventory: String,
    payments: String,
}

/// Reads the balance, waits until the other service has read it too, and
/// writes back `balance - amount`: each access under the lock, the update
/// as a whole not.
async fn debit(db: &Db, amount: i64) {
    let balance = {
        let ledger = db.ledger.lock().unwrap();
        tracked!(ledger.balance)
    };
    db.both_read.wait().await;
    let mut ledger = db.ledger.lock().unwrap();
    tracked!(ledger.balance = balance - amount);
}

async fn reserve(State(db): State<Arc<Db>>) -> &'static str {
    {
        let mut order = db.order.lock().unwrap();
        let status = tracked!(order.status);
        assert_eq!(status, "placed");
        tracked!(order.reserved = true);
    }
    debit(&db, 10).await;
    "reserved"
}

async fn charge(State(db): State<Arc<Db>>) -> &'static str {
    debit(&db, 25).await;
    "charged"
}

async fn checkout(State(s): State<Downstream>) -> String {
    {
        let mut order = s.db.order.lock().unwrap();
        tracked!(order.status = "placed");
    }
    let (a, b) = tokio::join!(
        raceway::request(s.http.post(format!("{}/reserve", s.inventory))),
        raceway::request(s.http.post(format!("{}/charge", s.payments))),
    );
    let (a, b) = (a.expect("inventory answers"), b.expect("payments answers"));
    let (a, b) = (a.text().await.unwrap(), b.text().await.unwrap());
    let order = s.db.order.lock().unwrap();
    let reserved = tracked!(order.reserved);
    format!("{a}, {b}, reserved={reserved}")
}

/// The three services, started.
pub struct Shop {
    pub gateway: Server,
    pub inventory: Server,
    pub payments: Server,
    pub db: Arc<Db>,
}

impl Shop {
    pub async fn start() -> Shop {
        let db = Db::new();
        let inventory = Server::start(
            Router::new()
                .route("/reserve", post(reserve))
                .with_state(db.clone())
                .layer(RacewayLayer::new().service_name("inventory")),
        )
        .await;
        let payments = Server::start(
            Router::new()
                .route("/charge", post(charge))
                .with_state(db.clone())
                .layer(RacewayLayer::new().service_name("payments")),
        )
        .await;
        let downstream = Downstream {
            db: db.clone(),
            http: reqwest::Client::new(),
            inventory: inventory.url.clone(),
            payments: payments.url.clone(),
        };
        let gateway = Server::start(
            Router::new()
                .route("/checkout", post(checkout))
                .with_state(downstream)
                .layer(RacewayLayer::new().service_name("gateway")),
        )
        .await;
        Shop { gateway, inventory, payments, db }
    }

    /// One checkout from an uninstrumented client; returns the gateway's
    /// answer.
    pub async fn checkout(&self) -> String {
        let response = reqwest::Client::new().post(format!("{}/checkout", self.gateway.url)).send().await.unwrap();
        assert!(response.status().is_success(), "{response:?}");
        response.text().await.unwrap()
    }

    pub async fn stop(self) {
        self.gateway.stop().await;
        self.inventory.stop().await;
        self.payments.stop().await;
    }
}
