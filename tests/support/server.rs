//! A real axum server on an ephemeral port of 127.0.0.1, on the current
//! tokio runtime, stopped gracefully.

use axum::Router;
use std::net::SocketAddr;

/// A running server; [`Server::stop`] shuts it down gracefully and waits
/// until its requests are done.
pub struct Server {
    pub url: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    pub async fn start(app: Router) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1");
        let addr: SocketAddr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .expect("the server runs");
        });
        Server { url: format!("http://{addr}"), stop, task }
    }

    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.expect("the server stops");
    }
}
