//! Real parts for the integration tests: an HTTP receiver on 127.0.0.1 that
//! checks every batch against the Raceway server's schema, and that schema,
//! written independently of the SDK's own wire types.

pub mod capture;
pub mod child;
pub mod clocks;
pub mod receiver;
pub mod schema;
pub mod server;
pub mod shop;
