//! TLS to a shared PostgreSQL L2, with libpq's `sslmode` meanings on rustls (no OpenSSL).
//! tokio-postgres parses only `disable`, `prefer` and `require`, and has no `sslrootcert`, so
//! this file takes those two parameters out of `l2.url` itself:
//!
//! - `disable`: plain connections. `prefer` (libpq's default, and ours): TLS when the server
//!   offers it, unverified, else plain. `require`: TLS or nothing, unverified.
//! - `verify-ca`: TLS, and the server's certificate must chain to the CA. `verify-full`: that,
//!   and it must name the host connected to.
//!
//! The CA is `l2.ca_file`, else the URL's `sslrootcert` (a PEM file, or `system` for the public
//! web roots); `verify-*` without one is a config error, not a silent trust-everything.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaSource {
    File(PathBuf),
    /// The public web roots (Mozilla's, built in): libpq's `sslrootcert=system`.
    System,
}

/// `l2.url` with its TLS settings taken apart.
pub struct Target {
    pub config: tokio_postgres::Config,
    pub mode: TlsMode,
    ca: Option<CaSource>,
}

/// Parses `url` (either form libpq takes) and the `l2.ca_file` setting.
pub fn target(url: &str, ca_file: &Path) -> Result<Target, String> {
    let mut mode = TlsMode::Prefer;
    let mut root_cert = None;
    let rest = strip_params(url, |key, value| match key {
        "sslmode" => {
            mode = match value {
                "disable" => TlsMode::Disable,
                "allow" | "prefer" => TlsMode::Prefer,
                "require" => TlsMode::Require,
                "verify-ca" => TlsMode::VerifyCa,
                "verify-full" => TlsMode::VerifyFull,
                other => {
                    return Err(format!(
                        "sslmode={other}: expected disable, prefer, require, verify-ca or verify-full"
                    ));
                }
            };
            Ok(true)
        }
        "sslrootcert" => {
            root_cert = Some(value.to_owned());
            Ok(true)
        }
        _ => Ok(false),
    })?;
    let mut config: tokio_postgres::Config = rest.parse().map_err(|e| format!("{e}"))?;
    config.ssl_mode(match mode {
        TlsMode::Disable => SslMode::Disable,
        TlsMode::Prefer => SslMode::Prefer,
        TlsMode::Require | TlsMode::VerifyCa | TlsMode::VerifyFull => SslMode::Require,
    });
    let ca = if !ca_file.as_os_str().is_empty() {
        Some(CaSource::File(ca_file.to_owned()))
    } else {
        match root_cert.as_deref() {
            None | Some("") => None,
            Some("system") => Some(CaSource::System),
            Some(path) => Some(CaSource::File(PathBuf::from(path))),
        }
    };
    if matches!(mode, TlsMode::VerifyCa | TlsMode::VerifyFull) && ca.is_none() {
        return Err(format!(
            "sslmode={} needs a CA to verify the server with: set l2.ca_file to its PEM file \
             (or sslrootcert=system in the URL for the public web roots)",
            if mode == TlsMode::VerifyCa {
                "verify-ca"
            } else {
                "verify-full"
            }
        ));
    }
    Ok(Target { config, mode, ca })
}

impl Target {
    /// The connector for this target; reading the CA file happens here, at connect time.
    pub fn connector(&self) -> Result<MakeRustlsConnect, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier: Arc<dyn ServerCertVerifier> = match self.mode {
            TlsMode::Disable | TlsMode::Prefer | TlsMode::Require => {
                Arc::new(Unverified(provider.clone()))
            }
            TlsMode::VerifyCa | TlsMode::VerifyFull => {
                let roots = self.roots()?;
                let webpki =
                    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                        .build()
                        .map_err(|e| format!("l2 TLS: {e}"))?;
                if self.mode == TlsMode::VerifyCa {
                    Arc::new(AnyName(webpki))
                } else {
                    webpki
                }
            }
        };
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("l2 TLS: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(MakeRustlsConnect::new(config))
    }

    fn roots(&self) -> Result<RootCertStore, String> {
        let mut roots = RootCertStore::empty();
        match &self.ca {
            Some(CaSource::System) => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            Some(CaSource::File(path)) => {
                let certs = CertificateDer::pem_file_iter(path)
                    .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| format!("cannot read the CA file {}: {e}", path.display()))?;
                let (added, _) = roots.add_parsable_certificates(certs);
                if added == 0 {
                    return Err(format!(
                        "the CA file {} holds no certificate",
                        path.display()
                    ));
                }
            }
            None => unreachable!("target() refuses verify-* without a CA"),
        }
        Ok(roots)
    }
}

/// What a TLS failure means for the person reading it, after the library's words.
pub fn explain(error: &str) -> Option<&'static str> {
    if error.contains("UnknownIssuer") || error.contains("BadSignature") {
        Some("the server's certificate is not signed by the CA in l2.ca_file")
    } else if error.contains("NotValidForName") {
        Some("the server's certificate does not name the host in l2.url (verify-full)")
    } else if error.contains("server does not support TLS") {
        Some("the server does not offer TLS, and l2.url's sslmode requires it")
    } else if error.contains("Expired") {
        Some("the server's certificate has expired")
    } else {
        None
    }
}

/// `require` and `prefer`: encrypted, the certificate unchecked (libpq's meaning). The
/// handshake's signatures are still verified, so the session is with the certificate's holder.
#[derive(Debug)]
struct Unverified(Arc<CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain is checked, the name is not.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// Removes the parameters `take` claims (returns true for) from a libpq connection string,
/// in URL form (`postgres://...?sslmode=require&...`) or key=value form.
fn strip_params(
    url: &str,
    mut take: impl FnMut(&str, &str) -> Result<bool, String>,
) -> Result<String, String> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let Some((base, query)) = url.split_once('?') else {
            return Ok(url.to_owned());
        };
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if !take(
                key,
                &percent_encoding::percent_decode_str(value).decode_utf8_lossy(),
            )? {
                kept.push(pair);
            }
        }
        return Ok(if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        });
    }
    let mut kept = Vec::new();
    for (key, value, raw) in key_values(url)? {
        if !take(&key, &value)? {
            kept.push(raw);
        }
    }
    Ok(kept.join(" "))
}

/// `key = 'va\'lue' key2=v2` as (key, value, the pair's original text).
fn key_values(text: &str) -> Result<Vec<(String, String, String)>, String> {
    let mut pairs = Vec::new();
    let mut chars = text.char_indices().peekable();
    loop {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let Some(&(start, _)) = chars.peek() else {
            break;
        };
        let mut key = String::new();
        while let Some((_, c)) = chars.next_if(|(_, c)| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        if chars.next().is_none_or(|(_, c)| c != '=') {
            return Err(format!("missing `=` after {key:?}"));
        }
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if(|(_, c)| *c == '\'').is_some() {
            loop {
                match chars.next() {
                    None => return Err(format!("unterminated quote in the value of {key}")),
                    Some((_, '\'')) => break,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, c)) => value.push(c),
                        None => return Err(format!("unterminated quote in the value of {key}")),
                    },
                    Some((_, c)) => value.push(c),
                }
            }
        } else {
            while let Some((_, c)) = chars.next_if(|(_, c)| !c.is_whitespace()) {
                value.push(c);
            }
        }
        let end = chars.peek().map_or(text.len(), |&(at, _)| at);
        pairs.push((key, value, text[start..end].trim_end().to_owned()));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Result<Target, String> {
        target(url, Path::new(""))
    }

    #[test]
    fn sslmode_and_sslrootcert_leave_both_url_forms() {
        let t = parse("postgres://u@db.internal:5432/cache?sslmode=verify-full&sslrootcert=/etc/ca.pem&application_name=x").unwrap();
        assert_eq!(t.mode, TlsMode::VerifyFull);
        assert_eq!(t.ca, Some(CaSource::File("/etc/ca.pem".into())));
        assert_eq!(t.config.get_ssl_mode(), SslMode::Require);
        assert_eq!(t.config.get_dbname(), Some("cache"));

        let t = parse("host=db port=5432 sslmode = 'require' dbname='a b'").unwrap();
        assert_eq!(t.mode, TlsMode::Require);
        assert_eq!(t.config.get_dbname(), Some("a b"));
        assert_eq!(t.ca, None);

        let t = parse("host=/run/postgresql dbname=shadcache").unwrap();
        assert_eq!(t.mode, TlsMode::Prefer);
        let t = parse("postgres://u@h/d?sslmode=disable").unwrap();
        assert_eq!(t.config.get_ssl_mode(), SslMode::Disable);
        let t = parse("postgres://u@h/d?sslmode=verify-ca&sslrootcert=system").unwrap();
        assert_eq!(t.ca, Some(CaSource::System));
    }

    #[test]
    fn the_ca_file_setting_wins_and_verify_without_a_ca_is_refused() {
        let t = target(
            "host=h sslmode=verify-ca sslrootcert=/a.pem",
            Path::new("/b.pem"),
        )
        .unwrap();
        assert_eq!(t.ca, Some(CaSource::File("/b.pem".into())));
        let err = parse("host=h sslmode=verify-full").err().unwrap();
        assert!(err.contains("l2.ca_file"), "{err}");
        let err = parse("host=h sslmode=verify").err().unwrap();
        assert!(err.contains("verify-full"), "{err}");
        assert!(parse("host=h sslmode='unterminated").is_err());
    }

    #[test]
    fn a_missing_or_empty_ca_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        for (file, says) in [
            (dir.path().join("missing.pem"), "cannot read the CA file"),
            (empty, "holds no certificate"),
        ] {
            let t = target("host=h sslmode=verify-full", &file).unwrap();
            let err = t.connector().err().unwrap();
            assert!(
                err.contains(says) && err.contains(&*file.to_string_lossy()),
                "{err}"
            );
        }
    }
}
