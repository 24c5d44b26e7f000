//! Methods with every receiver, trait impls, async functions and
//! `#[async_trait]` methods.

use raceway::track;
use std::pin::Pin;

#[derive(Debug, Default)]
struct Counter {
    value: i64,
}

impl Counter {
    #[track]
    fn by_ref(&self) -> &i64 {
        &self.value
    }

    #[track]
    fn by_mut(&mut self) -> &mut i64 {
        &mut self.value
    }

    #[track]
    fn by_value(self) -> i64 {
        self.value
    }

    #[track]
    fn by_mut_value(mut self) -> i64 {
        self.value += 1;
        self.value
    }

    #[track]
    fn boxed(self: Box<Self>) -> i64 {
        self.value
    }

    #[track]
    fn pinned(self: Pin<&mut Self>) -> i64 {
        self.value
    }

    #[track]
    fn associated() -> Self {
        Self::default()
    }

    #[track]
    async fn later(&mut self, by: i64) -> i64 {
        self.value += by;
        self.value
    }
}

trait Area {
    fn area(&self) -> f64;
}

impl Area for Counter {
    #[track]
    fn area(&self) -> f64 {
        self.value as f64
    }
}

#[track]
async fn free_async(a: &tokio::sync::Mutex<i32>) -> Result<i32, String> {
    let guard = a.lock().await;
    tokio::task::yield_now().await;
    Ok(*guard)
}

#[async_trait::async_trait]
trait Store {
    async fn load(&self, key: &str) -> Option<u32>;
}

#[async_trait::async_trait]
impl Store for Counter {
    #[track]
    async fn load(&self, key: &str) -> Option<u32> {
        (!key.is_empty()).then_some(1)
    }
}

fn assert_send<T: Send>(t: T) -> T {
    t
}

fn main() {
    let mut c = Counter::associated();
    *c.by_mut() += 1;
    let _ = *c.by_ref() + c.area() as i64;
    let _ = Box::new(Counter::default()).boxed();
    let _ = Pin::new(&mut c).pinned();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let m = tokio::sync::Mutex::new(1);
    // The futures of tracked async functions stay Send.
    let _ = rt.block_on(assert_send(free_async(&m)));
    let _ = rt.block_on(assert_send(c.later(2)));
    let _ = rt.block_on(assert_send(c.load("k")));
    let _ = c.by_mut_value();
}
