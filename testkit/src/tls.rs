//! A throwaway certificate authority per server.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

use crate::Error;

/// A self-signed CA with a serving certificate for `127.0.0.1`/`localhost` and a client
/// certificate, all written as PEM files into a directory.
#[derive(Debug, Clone)]
pub struct TestCa {
    dir: PathBuf,
    ca_pem: String,
    client_cert_pem: String,
    client_key_pem: String,
}

impl TestCa {
    /// Generates the CA, the server and the client certificates into `dir`
    /// (`ca.crt`, `server.crt`, `server.key`, `client.crt`, `client.key`).
    ///
    /// # Errors
    /// [`Error::Tls`] or [`Error::Io`].
    pub fn generate(dir: &Path, name: &str) -> Result<Self, Error> {
        let ca_key = KeyPair::generate()?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, format!("{name} test CA"));
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca_params.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate()?;
        let mut server = CertificateParams::new(vec!["localhost".to_owned()])?;
        server
            .subject_alt_names
            .push(SanType::IpAddress([127, 0, 0, 1].into()));
        server
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = server.signed_by(&server_key, &issuer)?;

        let client_key = KeyPair::generate()?;
        let mut client = CertificateParams::new(Vec::<String>::new())?;
        client
            .distinguished_name
            .push(DnType::CommonName, format!("{name} test client"));
        client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client_cert = client.signed_by(&client_key, &issuer)?;

        let ca = Self {
            dir: dir.to_owned(),
            ca_pem: ca_cert.pem(),
            client_cert_pem: client_cert.pem(),
            client_key_pem: client_key.serialize_pem(),
        };
        crate::write(&ca.ca_path(), &ca.ca_pem)?;
        crate::write(&ca.server_cert_path(), server_cert.pem())?;
        crate::write(&ca.server_key_path(), server_key.serialize_pem())?;
        crate::write(&ca.client_cert_path(), &ca.client_cert_pem)?;
        crate::write(&ca.client_key_path(), &ca.client_key_pem)?;
        Ok(ca)
    }

    /// The CA certificate (PEM): what a client must trust (`ca.crt` in Flux secrets).
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }
    /// The client certificate (PEM, `tls.crt` in Flux secrets).
    pub fn client_cert_pem(&self) -> &str {
        &self.client_cert_pem
    }
    /// The client key (PEM, `tls.key` in Flux secrets).
    pub fn client_key_pem(&self) -> &str {
        &self.client_key_pem
    }
    /// Path of the CA certificate.
    pub fn ca_path(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }
    /// Path of the serving certificate.
    pub fn server_cert_path(&self) -> PathBuf {
        self.dir.join("server.crt")
    }
    /// Path of the serving key.
    pub fn server_key_path(&self) -> PathBuf {
        self.dir.join("server.key")
    }
    /// Path of the client certificate.
    pub fn client_cert_path(&self) -> PathBuf {
        self.dir.join("client.crt")
    }
    /// Path of the client key.
    pub fn client_key_path(&self) -> PathBuf {
        self.dir.join("client.key")
    }
}
