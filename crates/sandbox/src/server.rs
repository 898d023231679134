//! Running a simulator's HTTP server on a loopback port.

use std::sync::Arc;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer, web};

/// Binds `127.0.0.1:port` (0 for any free port), serves `configure`'s routes with `state` as
/// shared data, and returns the base URL and a handle to stop it.
pub fn start<T: Send + Sync + 'static>(
    port: u16,
    state: impl FnOnce(String) -> Arc<T>,
    configure: fn(&mut web::ServiceConfig),
) -> std::io::Result<(String, Arc<T>, ServerHandle)> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
    let url = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
    let state = state(url.clone());
    let data = web::Data::from(state.clone());
    let server = HttpServer::new(move || App::new().app_data(data.clone()).configure(configure))
        .workers(2)
        .listen(listener)?
        .run();
    let handle = server.handle();
    tokio::spawn(server);
    Ok((url, state, handle))
}
