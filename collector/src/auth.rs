//! Bearer-token access control for both listeners (`--auth-token-file`).
//!
//! Exporters send `Authorization: Bearer <token>` (OTLP exporters take it
//! as a header: `OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%20<token>`).
//! The token is compared in constant time, so response timing does not
//! reveal how much of a guess was right.

use std::path::Path;

use crate::error::{Error, Result};

/// The shared secret exporters must present.
#[derive(Clone)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(..)")
    }
}

impl Token {
    /// A token from its text (surrounding whitespace ignored).
    pub fn new(text: &str) -> Result<Token> {
        let token = text.trim();
        if token.is_empty() {
            return Err(Error::Internal("the auth token is empty".into()));
        }
        Ok(Token(token.to_owned()))
    }

    /// Reads the token from a file.
    pub fn from_file(path: &Path) -> Result<Token> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Token::new(&text).map_err(|_| {
            Error::io(
                path,
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "the auth token file is empty",
                ),
            )
        })
    }

    /// The token itself, for a client to send.
    pub fn text(&self) -> &str {
        &self.0
    }

    /// Whether an `Authorization` header value carries this token.
    pub fn admits(&self, authorization: Option<&[u8]>) -> bool {
        let Some(value) = authorization else {
            return false;
        };
        let Some(presented) = value
            .strip_prefix(b"Bearer ")
            .or_else(|| value.strip_prefix(b"bearer "))
        else {
            return false;
        };
        constant_time_eq(presented.trim_ascii(), self.0.as_bytes())
    }
}

/// Equal, in time that depends only on the lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_token_is_admitted() {
        let token = Token::new(" s3cret\n").unwrap();
        assert!(token.admits(Some(b"Bearer s3cret")));
        assert!(token.admits(Some(b"bearer s3cret ")));
        assert!(!token.admits(Some(b"Bearer s3cre")));
        assert!(!token.admits(Some(b"Bearer s3cret2")));
        assert!(!token.admits(Some(b"Basic s3cret")));
        assert!(!token.admits(None));
        assert!(Token::new("  ").is_err());
    }
}
