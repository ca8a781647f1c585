//! `<algorithm>:<hex>` digests as in `status.artifact.digest`.

use std::fmt;
use std::io;

use sha2::{Digest as _, Sha256, Sha384, Sha512};

use super::ArtifactError;

/// The hash functions an artifact digest may use (upstream's `--artifact-digest-algo`
/// minus blake3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlgorithm {
    /// `sha256`, the default and what a bare hex digest means.
    Sha256,
    /// `sha384`
    Sha384,
    /// `sha512`
    Sha512,
}

impl DigestAlgorithm {
    /// The name used before the colon.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    fn hex_len(self) -> usize {
        match self {
            Self::Sha256 => 64,
            Self::Sha384 => 96,
            Self::Sha512 => 128,
        }
    }
}

/// A parsed digest, e.g. `sha256:2c26b46b...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    algorithm: DigestAlgorithm,
    hex: String,
}

impl Digest {
    /// Parses `<algorithm>:<hex>`; a string without a colon is a sha256 hex digest, as
    /// upstream consumers read it. The hex must be lowercase and of the algorithm's
    /// length.
    ///
    /// # Errors
    /// [`ArtifactError::InvalidDigest`] for an empty string, an unknown algorithm (blake3
    /// is not supported) or malformed hex.
    pub fn parse(digest: &str) -> Result<Self, ArtifactError> {
        let invalid = |reason| ArtifactError::InvalidDigest {
            digest: digest.to_owned(),
            reason,
        };
        if digest.is_empty() {
            return Err(invalid("empty digest"));
        }
        let (algorithm, hex) = digest.split_once(':').unwrap_or(("sha256", digest));
        let algorithm = match algorithm {
            "sha256" => DigestAlgorithm::Sha256,
            "sha384" => DigestAlgorithm::Sha384,
            "sha512" => DigestAlgorithm::Sha512,
            _ => return Err(invalid("unsupported digest algorithm")),
        };
        if hex.len() != algorithm.hex_len()
            || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(invalid("malformed hex"));
        }
        Ok(Self {
            algorithm,
            hex: hex.to_owned(),
        })
    }

    /// The sha256 digest of `data`.
    pub fn sha256_of(data: &[u8]) -> Self {
        let mut digester = Digester::new(DigestAlgorithm::Sha256);
        digester.update(data);
        digester.finish()
    }

    /// The hash function.
    pub fn algorithm(&self) -> DigestAlgorithm {
        self.algorithm
    }

    /// The lowercase hex part.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// Checks `data` against this digest.
    ///
    /// # Errors
    /// [`ArtifactError::DigestMismatch`] when the data hashes differently.
    pub fn verify(&self, data: &[u8]) -> Result<(), ArtifactError> {
        let mut digester = Digester::new(self.algorithm);
        digester.update(data);
        self.check(&digester.finish())
    }

    /// Compares a computed digest with this expected one.
    ///
    /// # Errors
    /// [`ArtifactError::DigestMismatch`] when they differ.
    pub fn check(&self, actual: &Digest) -> Result<(), ArtifactError> {
        if self == actual {
            Ok(())
        } else {
            Err(ArtifactError::DigestMismatch {
                expected: self.to_string(),
                actual: actual.to_string(),
            })
        }
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.name(), self.hex)
    }
}

/// Incremental hashing; also an [`io::Write`] sink that counts what it saw.
#[derive(Debug, Clone)]
pub struct Digester {
    state: State,
    size: u64,
}

#[derive(Debug, Clone)]
enum State {
    Sha256(Sha256),
    Sha384(Sha384),
    Sha512(Sha512),
}

impl Digester {
    /// A fresh digester for `algorithm`.
    pub fn new(algorithm: DigestAlgorithm) -> Self {
        let state = match algorithm {
            DigestAlgorithm::Sha256 => State::Sha256(Sha256::new()),
            DigestAlgorithm::Sha384 => State::Sha384(Sha384::new()),
            DigestAlgorithm::Sha512 => State::Sha512(Sha512::new()),
        };
        Self { state, size: 0 }
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.size += data.len() as u64;
        match &mut self.state {
            State::Sha256(h) => h.update(data),
            State::Sha384(h) => h.update(data),
            State::Sha512(h) => h.update(data),
        }
    }

    /// How many bytes were fed so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The digest of everything fed.
    pub fn finish(self) -> Digest {
        let (algorithm, hex) = match self.state {
            State::Sha256(h) => (DigestAlgorithm::Sha256, hex::encode(h.finalize())),
            State::Sha384(h) => (DigestAlgorithm::Sha384, hex::encode(h.finalize())),
            State::Sha512(h) => (DigestAlgorithm::Sha512, hex::encode(h.finalize())),
        };
        Digest { algorithm, hex }
    }
}

impl io::Write for Digester {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO_SHA256: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    #[test]
    fn a_bare_hex_digest_is_sha256() {
        let digest = Digest::parse(HELLO_SHA256).unwrap();
        assert_eq!(digest.algorithm(), DigestAlgorithm::Sha256);
        assert_eq!(digest.to_string(), format!("sha256:{HELLO_SHA256}"));
        digest.verify(b"hello").unwrap();
    }

    #[test]
    fn the_digest_of_bytes_is_sha256_with_prefix() {
        assert_eq!(
            Digest::sha256_of(b"hello").to_string(),
            format!("sha256:{HELLO_SHA256}")
        );
    }

    #[test]
    fn other_sha2_algorithms_verify_too() {
        for algorithm in [DigestAlgorithm::Sha384, DigestAlgorithm::Sha512] {
            let mut digester = Digester::new(algorithm);
            digester.update(b"hello");
            let digest = Digest::parse(&digester.finish().to_string()).unwrap();
            digest.verify(b"hello").unwrap();
            assert!(digest.verify(b"hell0").is_err());
        }
    }

    #[test]
    fn a_mismatch_names_both_digests() {
        let err = Digest::parse(HELLO_SHA256)
            .unwrap()
            .verify(b"bye")
            .unwrap_err();
        let message = err.to_string();
        assert!(message.contains(HELLO_SHA256), "{message}");
        assert!(
            message.contains(&Digest::sha256_of(b"bye").to_string()),
            "{message}"
        );
    }

    #[test]
    fn malformed_digests_are_refused() {
        for bad in [
            "",
            "sha256:",
            "sha256:abc",
            "md5:d41d8cd98f00b204e9800998ecf8427e",
            "blake3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
            &format!("sha256:{}", HELLO_SHA256.to_uppercase()),
            &format!("sha256:{HELLO_SHA256}0"),
        ] {
            assert!(
                matches!(Digest::parse(bad), Err(ArtifactError::InvalidDigest { .. })),
                "{bad:?}"
            );
        }
    }
}
