//! Credentials: a CA and a serving certificate (generated into the data directory on first
//! start), and the bearer token clients present.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};

/// What clients need to trust and authenticate to the server.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The CA certificate (PEM) that signed the serving certificate.
    pub ca_pem: String,
    /// The serving certificate (PEM).
    pub cert_pem: String,
    /// The serving key (PEM).
    pub key_pem: String,
    /// The bearer token.
    pub token: String,
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

fn tls_error(error: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("certificate generation failed: {error}"))
}

/// The CA's parameters: a fixed name and CA key usages.
fn ca_params() -> std::io::Result<CertificateParams> {
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(tls_error)?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "sluice-apiserver-ca");
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(params)
}

/// Loads the CA and token from `dir`, creating them on first start, and issues a serving
/// certificate for `localhost`, `127.0.0.1`, `::1` and `listen_ip`.
///
/// # Errors
/// I/O errors on the data directory, or a corrupt CA file.
pub fn load_or_create(dir: &Path, listen_ip: IpAddr) -> std::io::Result<Credentials> {
    std::fs::create_dir_all(dir)?;
    let ca_cert_path = dir.join("ca.crt");
    let ca_key_path = dir.join("ca.key");
    if !ca_cert_path.exists() || !ca_key_path.exists() {
        let key = KeyPair::generate().map_err(tls_error)?;
        let cert = ca_params()?.self_signed(&key).map_err(tls_error)?;
        write_private(&ca_key_path, &key.serialize_pem())?;
        std::fs::write(&ca_cert_path, cert.pem())?;
    }
    let ca_pem = std::fs::read_to_string(&ca_cert_path)?;
    let ca_key = KeyPair::from_pem(&std::fs::read_to_string(&ca_key_path)?).map_err(tls_error)?;
    // The CA's identity is fixed, so its parameters are rebuilt rather than parsed.
    let issuer = Issuer::new(ca_params()?, ca_key);

    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).map_err(tls_error)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "sluice-apiserver");
    let mut ips: Vec<IpAddr> = vec![
        "127.0.0.1".parse().expect("valid IP"),
        "::1".parse().expect("valid IP"),
    ];
    if !listen_ip.is_unspecified() && !ips.contains(&listen_ip) {
        ips.push(listen_ip);
    }
    for ip in ips {
        params.subject_alt_names.push(SanType::IpAddress(ip));
    }
    let key = KeyPair::generate().map_err(tls_error)?;
    let cert = params.signed_by(&key, &issuer).map_err(tls_error)?;
    let cert_pem = cert.pem();
    let key_pem = key.serialize_pem();
    std::fs::write(dir.join("server.crt"), &cert_pem)?;
    write_private(&dir.join("server.key"), &key_pem)?;

    let token_path = dir.join("token");
    if !token_path.exists() {
        let bytes: [u8; 32] = rand::random();
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        write_private(&token_path, &token)?;
    }
    let token = std::fs::read_to_string(&token_path)?.trim().to_owned();
    Ok(Credentials {
        ca_pem,
        cert_pem,
        key_pem,
        token,
    })
}

/// The rustls configuration serving `credentials`, offering HTTP/2 and HTTP/1.1.
///
/// # Errors
/// When the PEM material does not parse.
pub fn server_config(credentials: &Credentials) -> std::io::Result<Arc<rustls::ServerConfig>> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(credentials.cert_pem.as_bytes())
            .collect::<Result<_, _>>()
            .map_err(tls_error)?;
    let key = PrivateKeyDer::from_pem_slice(credentials.key_pem.as_bytes()).map_err(tls_error)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(tls_error)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
