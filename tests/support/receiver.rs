use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

/// One request the receiver saw.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
    pub at: Instant,
    pub accepted: bool,
}

#[derive(Default)]
struct State {
    requests: Mutex<Vec<Received>>,
    fail_next: AtomicUsize,
}

/// A vendor's webhook endpoint on a real local port: answers 500 to the first `fail_first`
/// requests, 200 after, and records everything.
pub struct Receiver {
    pub url: String,
    state: Arc<State>,
    handle: actix_web::dev::ServerHandle,
}

async fn receive(state: web::Data<State>, request: HttpRequest, body: String) -> HttpResponse {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let fail = state
        .fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    state.requests.lock().unwrap().push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body,
        at: Instant::now(),
        accepted: !fail,
    });
    if fail {
        HttpResponse::InternalServerError().finish()
    } else {
        HttpResponse::NoContent().finish()
    }
}

impl Receiver {
    pub async fn start(fail_first: usize) -> Self {
        Self::start_on(0, fail_first).await
    }

    pub async fn start_on(port: u16, fail_first: usize) -> Self {
        let state = Arc::new(State::default());
        state.fail_next.store(fail_first, Ordering::SeqCst);
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/hooks", web::post().to(receive))
        })
        .workers(1)
        .bind(("127.0.0.1", port))
        .unwrap();
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}/hooks"),
            state,
            handle,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.requests.lock().unwrap().clone()
    }

    pub fn accepted(&self) -> Vec<Received> {
        self.received().into_iter().filter(|r| r.accepted).collect()
    }

    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}
