//! Keys recognised by their armour or structure: PEM private key blocks and JSON Web Tokens.

use std::sync::LazyLock;

use regex::Regex;

pub(super) fn anchored(pattern: &str) -> Regex {
    Regex::new(&format!("^(?:{pattern})")).expect("detector patterns are valid")
}

pub(super) static PEM_BEGIN: LazyLock<Regex> =
    LazyLock::new(|| anchored(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----"));
pub(super) static PEM_END: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----").unwrap());
/// A JSON Web Token: the header and the start of the payload are enough, so that a token
/// cut short (at the end of a shown value, say) is still hidden whole.
pub(super) static JWT: LazyLock<Regex> =
    LazyLock::new(|| anchored(r"eyJ[A-Za-z0-9_-]{2,}\.eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?"));
