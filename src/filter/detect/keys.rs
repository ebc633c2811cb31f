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
pub(super) static AWS: LazyLock<Regex> =
    LazyLock::new(|| anchored(r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}"));
pub(super) static GITHUB: LazyLock<Regex> =
    LazyLock::new(|| anchored(r"gh[pousr]_[A-Za-z0-9]{36,255}"));
pub(super) static GITHUB_PAT: LazyLock<Regex> =
    LazyLock::new(|| anchored(r"github_pat_[A-Za-z0-9_]{22,255}"));
pub(super) static GITLAB: LazyLock<Regex> =
    LazyLock::new(|| anchored(r"glpat-[A-Za-z0-9_-]{20,255}"));
pub(super) static NPM: LazyLock<Regex> = LazyLock::new(|| anchored(r"npm_[A-Za-z0-9]{36}"));
pub(super) static STRIPE: LazyLock<Regex> = LazyLock::new(|| {
    anchored(r"(?:[sr]k_(?:live|test)_[A-Za-z0-9]{10,255}|whsec_[A-Za-z0-9+/=]{20,255})")
});
pub(super) static SLACK: LazyLock<Regex> =
    LazyLock::new(|| anchored(r"(?:xox[abposre]-[A-Za-z0-9-]{10,255}|xapp-[A-Za-z0-9-]{10,255})"));
pub(super) static SLACK_WEBHOOK: LazyLock<Regex> =
    LazyLock::new(|| anchored(r"hooks\.slack\.com/services/[A-Za-z0-9/_-]{8,255}"));
pub(super) static GOOGLE: LazyLock<Regex> = LazyLock::new(|| anchored(r"AIza[0-9A-Za-z_-]{35}"));
pub(super) static SENDGRID: LazyLock<Regex> =
    LazyLock::new(|| anchored(r"SG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}"));
pub(super) static OPENAI: LazyLock<Regex> =
    LazyLock::new(|| anchored(r"sk-(?:proj-|ant-|svcacct-)?[A-Za-z0-9_-]{32,255}"));
