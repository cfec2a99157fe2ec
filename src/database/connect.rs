//! Opening one connection to L2, plain or over TLS, within a deadline, and an error that says
//! what went wrong (every cause in the chain, and what a TLS failure means).

use std::time::Duration;

use tokio_postgres::Client;

use super::error::{L2Error, server_message};

pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection's driver, boxed so plain and TLS connections are driven alike.
pub(super) type Driver =
    std::pin::Pin<Box<dyn Future<Output = Result<(), tokio_postgres::Error>> + Send>>;

/// One connection, over TLS when `tls` is given (a PostgreSQL server, per `l2.url`).
pub(super) async fn connect(
    pg: &tokio_postgres::Config,
    tls: Option<&tokio_postgres_rustls::MakeRustlsConnect>,
) -> Result<(Client, Driver), L2Error> {
    let connecting = async {
        Ok::<_, tokio_postgres::Error>(match tls {
            None => {
                let (client, connection) = pg.connect(tokio_postgres::NoTls).await?;
                (client, Box::pin(connection) as Driver)
            }
            Some(tls) => {
                let (client, connection) = pg.connect(tls.clone()).await?;
                (client, Box::pin(connection) as Driver)
            }
        })
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, connecting).await {
        Err(_) => Err(L2Error::Open(format!(
            "no answer within {CONNECT_TIMEOUT:?}"
        ))),
        Ok(Ok(pair)) => Ok(pair),
        Ok(Err(e)) => {
            let mut text = server_message(&e);
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                let line = cause.to_string();
                if !text.contains(&line) {
                    text = format!("{text}: {line}");
                }
                source = cause.source();
            }
            Err(L2Error::Open(match super::tls::explain(&text) {
                Some(why) => format!("{text} ({why})"),
                None => text,
            }))
        }
    }
}
