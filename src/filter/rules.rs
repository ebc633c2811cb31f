//! The redaction rules and the summary of what each one hid.

use std::fmt;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

/// Why a value was hidden. The redaction summary counts hidden values per rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Rule {
    /// The name matched the hidden-name pattern (Django's `hidden_settings`).
    NamePattern,
    /// The name matched an extended term (`dsn`, `session`, `otp`, …).
    ExtendedName,
    /// The name is the session cookie's.
    SessionCookie,
    /// The HTTP stack marked the header sensitive.
    SensitiveHeader,
    /// A POST parameter declared sensitive.
    SensitivePostParameters,
    /// A frame variable declared sensitive.
    SensitiveVariables,
    /// `name=value` or `name: value` in text.
    NameValueText,
    /// A URL query parameter with a sensitive name.
    UrlQueryParameter,
    /// A password (or token user name) in a URL.
    UrlPassword,
    /// A `Bearer`/`Basic` credential.
    AuthorizationCredential,
    /// A PEM private key.
    PemPrivateKey,
    /// A card number.
    CardNumber,
    /// A JSON Web Token.
    Jwt,
    /// A well-known key format.
    KnownKeyFormat,
    /// A random-looking token: after a credential word, or long and high in entropy alone.
    HighEntropyToken,
    /// An IBAN (its mod-97 check passes).
    Iban,
    /// A US social security number next to a word naming it.
    Ssn,
    /// The user name in a home-directory path (`/home/alice/…`).
    HomeDirectoryUser,
    /// An email address (a category off by default).
    EmailAddress,
    /// The client's IP address: `REMOTE_ADDR` and the headers that forward it (a category
    /// off by default).
    ClientAddress,
    /// A value already hidden elsewhere in the report.
    ReverseLookup,
    /// A request body the reporter could not interpret, so it was not shown.
    UnparsedBody,
    /// A value nested deeper than the reporter follows.
    TooDeep,
    /// A value the filter failed on (fail closed).
    FilterFailure,
}

impl Rule {
    const COUNT: usize = 24;

    const ALL: [Rule; Rule::COUNT] = [
        Rule::NamePattern,
        Rule::ExtendedName,
        Rule::SessionCookie,
        Rule::SensitiveHeader,
        Rule::SensitivePostParameters,
        Rule::SensitiveVariables,
        Rule::NameValueText,
        Rule::UrlQueryParameter,
        Rule::UrlPassword,
        Rule::AuthorizationCredential,
        Rule::PemPrivateKey,
        Rule::CardNumber,
        Rule::Jwt,
        Rule::KnownKeyFormat,
        Rule::HighEntropyToken,
        Rule::Iban,
        Rule::Ssn,
        Rule::HomeDirectoryUser,
        Rule::EmailAddress,
        Rule::ClientAddress,
        Rule::ReverseLookup,
        Rule::UnparsedBody,
        Rule::TooDeep,
        Rule::FilterFailure,
    ];

    /// A short, stable label, used in summaries and JSON.
    pub fn label(self) -> &'static str {
        match self {
            Rule::NamePattern => "name pattern",
            Rule::ExtendedName => "extended name terms",
            Rule::SessionCookie => "session cookie",
            Rule::SensitiveHeader => "header marked sensitive",
            Rule::SensitivePostParameters => "sensitive POST parameters",
            Rule::SensitiveVariables => "sensitive variables",
            Rule::NameValueText => "name=value in text",
            Rule::UrlQueryParameter => "URL query parameter",
            Rule::UrlPassword => "URL password",
            Rule::AuthorizationCredential => "authorization credential",
            Rule::PemPrivateKey => "PEM private key",
            Rule::CardNumber => "card number",
            Rule::Jwt => "JSON Web Token",
            Rule::KnownKeyFormat => "known key format",
            Rule::HighEntropyToken => "high-entropy token",
            Rule::Iban => "IBAN",
            Rule::Ssn => "social security number",
            Rule::HomeDirectoryUser => "user name in a home directory",
            Rule::EmailAddress => "email address",
            Rule::ClientAddress => "client IP address",
            Rule::ReverseLookup => "value hidden elsewhere",
            Rule::UnparsedBody => "body not interpreted (hidden when unsure)",
            Rule::TooDeep => "nested too deep (hidden when unsure)",
            Rule::FilterFailure => "filter failure (hidden, fail closed)",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// How many values each rule hid in a report. Counts only, never values.
///
/// ```
/// use safe_report::{Capture, ExceptionReporter, Frame, Rule};
///
/// let capture = Capture::error("E", "POST /pay?api_key=abc123 failed")
///     .with_frame(Frame::new("shop::pay", "src/pay.rs", 3).var("password", "hunter2"));
/// let report = ExceptionReporter::default().report(&capture);
/// assert_eq!(report.redactions.count(Rule::UrlQueryParameter), 1);
/// assert_eq!(report.redactions.count(Rule::NamePattern), 1);
/// assert!(report.redactions.to_string().starts_with("2 values hidden"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedactionSummary {
    counts: [u32; Rule::COUNT],
}

impl RedactionSummary {
    /// Counts one hidden value.
    pub fn add(&mut self, rule: Rule) {
        self.add_many(rule, 1);
    }

    /// Adds `other`'s counts.
    pub fn merge(&mut self, other: &RedactionSummary) {
        for (rule, count) in other.iter() {
            self.add_many(rule, count);
        }
    }

    pub(crate) fn add_many(&mut self, rule: Rule, count: u32) {
        let slot = &mut self.counts[rule as usize];
        *slot = slot.saturating_add(count);
    }

    /// These counts minus `before`'s (the counts added since `before` was taken).
    pub fn since(&self, before: &RedactionSummary) -> RedactionSummary {
        let mut delta = RedactionSummary::default();
        for rule in Rule::ALL {
            delta.add_many(rule, self.count(rule).saturating_sub(before.count(rule)));
        }
        delta
    }

    /// How many values `rule` hid.
    pub fn count(&self, rule: Rule) -> u32 {
        self.counts[rule as usize]
    }

    /// How many values were hidden in all.
    pub fn total(&self) -> u32 {
        self.counts
            .iter()
            .fold(0u32, |sum, &n| sum.saturating_add(n))
    }

    /// The rules that hid something, with their counts, in a fixed order.
    pub fn iter(&self) -> impl Iterator<Item = (Rule, u32)> + '_ {
        Rule::ALL
            .iter()
            .map(|&rule| (rule, self.count(rule)))
            .filter(|&(_, count)| count > 0)
    }
}

impl fmt::Display for RedactionSummary {
    /// `N values hidden: rule: n, rule: n.`, or `No values hidden.`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.total();
        if total == 0 {
            return f.write_str("No values hidden.");
        }
        write!(
            f,
            "{total} value{} hidden: ",
            if total == 1 { "" } else { "s" }
        )?;
        for (index, (rule, count)) in self.iter().enumerate() {
            if index > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{rule} {count}")?;
        }
        f.write_str(".")
    }
}

impl Serialize for RedactionSummary {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("total", &self.total())?;
        for (rule, count) in self.iter() {
            map.serialize_entry(rule.label(), &count)?;
        }
        map.end()
    }
}
