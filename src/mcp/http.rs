//! `score mcp --http ADDR`: the same server over Streamable HTTP, for
//! clients that connect to a URL rather than start a process.
//!
//! The server can start runs and approve parts, and has no authentication
//! of its own: anyone who can reach it can do what its user can. So it
//! listens on a loopback address only, unless `--allow-remote` says
//! otherwise, and the SDK checks the `Host` header of each request against
//! the loopback names (a web page cannot reach it by DNS rebinding).

use super::ScoreServer;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
};
use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;

/// Why the HTTP server did not start or stopped.
#[derive(Debug)]
pub enum HttpError {
    /// Not `IP:PORT`.
    BadAddress(String),
    /// Not a loopback address, and `--allow-remote` not given.
    NotLoopback(SocketAddr),
    Io(std::io::Error),
}

impl HttpError {
    /// How to fix it.
    pub fn help(&self) -> Option<&'static str> {
        match self {
            HttpError::BadAddress(_) => {
                Some("give an address and port, e.g. `--http 127.0.0.1:8765`")
            }
            HttpError::NotLoopback(_) => Some(
                "use a loopback address (127.0.0.1 or [::1]); to serve others, put an authenticating proxy in front, or pass `--allow-remote` if you accept that anyone who reaches it can run scores as you",
            ),
            HttpError::Io(_) => None,
        }
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::BadAddress(text) => write!(f, "`{text}` is not an address to listen on"),
            HttpError::NotLoopback(addr) => write!(
                f,
                "refusing to serve MCP on `{addr}`: it is not a loopback address, and the server can run scores and approve parts for anyone who reaches it"
            ),
            HttpError::Io(e) => write!(f, "the MCP HTTP server failed: {e}"),
        }
    }
}

impl std::error::Error for HttpError {}

/// The path MCP is served at.
const ENDPOINT: &str = "/mcp";

/// The answer to a request for any other path.
fn not_found() -> hyper::Response<BoxBody<Bytes, Infallible>> {
    let mut response = hyper::Response::new(
        Full::new(Bytes::from_static(b"score mcp serves MCP at /mcp\n")).boxed(),
    );
    *response.status_mut() = hyper::StatusCode::NOT_FOUND;
    response
}

/// The address to listen on, if it may be used.
pub(crate) fn listen_address(text: &str, allow_remote: bool) -> Result<SocketAddr, HttpError> {
    let addr: SocketAddr = text
        .parse()
        .map_err(|_| HttpError::BadAddress(text.to_string()))?;
    if !addr.ip().is_loopback() && !allow_remote {
        return Err(HttpError::NotLoopback(addr));
    }
    Ok(addr)
}

/// Serve MCP over Streamable HTTP at `http://ADDR/mcp` until Ctrl-C. The
/// address it listens on (with the port the system chose for port 0) is
/// printed on stderr.
pub fn serve_http(address: &str, allow_remote: bool) -> Result<(), HttpError> {
    let addr = listen_address(address, allow_remote)?;
    let server = ScoreServer::from_process().map_err(HttpError::Io)?;
    let runtime = super::runtime().map_err(HttpError::Io)?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(HttpError::Io)?;
        let bound = listener.local_addr().map_err(HttpError::Io)?;
        let mut config = StreamableHttpServerConfig::default();
        if allow_remote {
            // Clients name the server by whatever host they reach it by.
            config = config.disable_allowed_hosts();
        }
        let mcp = TowerToHyperService::new(StreamableHttpService::new(
            move || Ok(server.clone()),
            LocalSessionManager::default().into(),
            config,
        ));
        // MCP at `/mcp`, as printed; anything else is not found.
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let mcp = mcp.clone();
            async move {
                if request.uri().path() == ENDPOINT {
                    hyper::service::Service::call(&mcp, request).await
                } else {
                    Ok(not_found())
                }
            }
        });
        eprintln!("score mcp: serving MCP over Streamable HTTP at http://{bound}{ENDPOINT}");
        loop {
            let (stream, _) = tokio::select! {
                _ = tokio::signal::ctrl_c() => return Ok(()),
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    // A connection that failed before it was accepted is
                    // that client's problem, not the server's.
                    Err(_) => continue,
                },
            };
            let service = service.clone();
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_unless_allowed() {
        assert!(listen_address("127.0.0.1:0", false).is_ok());
        assert!(listen_address("[::1]:8080", false).is_ok());
        let refused = listen_address("0.0.0.0:8080", false).unwrap_err();
        assert!(
            refused.to_string().contains("not a loopback address"),
            "{refused}"
        );
        assert!(refused.help().unwrap().contains("--allow-remote"));
        assert!(listen_address("0.0.0.0:8080", true).is_ok());
        assert!(matches!(
            listen_address("localhost", false),
            Err(HttpError::BadAddress(_))
        ));
    }
}
