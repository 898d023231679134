//! The reference: a bare actix-web route that answers `302 Found`, with the gateway's worker
//! count. Every figure is reported as a ratio to it, measured in the same run on the same
//! machine, so the machine's speed cancels out.

use actix_web::{App, HttpResponse, HttpServer, web};

/// Serves the reference on `127.0.0.1:port` until the process ends.
pub async fn serve(port: u16, workers: usize) -> std::io::Result<()> {
    HttpServer::new(|| {
        App::new().route(
            "/",
            web::get().to(|| async {
                HttpResponse::Found()
                    .insert_header(("location", "https://app.hubspot.com/"))
                    .finish()
            }),
        )
    })
    .workers(workers)
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
