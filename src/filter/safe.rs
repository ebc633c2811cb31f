//! The default filter and its builder.

use regex::Regex;

use super::detect::{self, Detector, DetectorSet, TextKind};
use super::names::{NameHit, NameRuleConfig, NameRules};
use super::{FilterContext, ReporterFilter, Rule};
use crate::limits::DEFAULT_SUBSTITUTE;

/// The default filter: Django's rules plus the beyond-Django rules, each switchable.
///
/// Defaults:
///
/// | rule | default |
/// |---|---|
/// | substitute | `********************` (20 asterisks, never length-preserving) |
/// | hidden-name pattern | Django's `API\|AUTH\|TOKEN\|KEY\|SECRET\|PASS\|SIGNATURE\|HTTP_COOKIE`, anywhere, any case |
/// | session cookie name | `sessionid` |
/// | extended names | [`EXTENDED_TERMS`](super::EXTENDED_TERMS) anywhere, [`EXTENDED_WORDS`](super::EXTENDED_WORDS) as whole words |
/// | names beyond Django | name rules on GET, POST, JSON keys, variable names and nested keys |
/// | detectors | every [`Detector`] in [`Detector::DEFAULT`] on every string: all but the home-directory, email address and client address categories |
/// | reverse lookup | values of 8+ characters hidden anywhere are hidden everywhere |
///
/// [`SafeReporterFilter::django`] switches every beyond-Django rule off.
///
/// ```
/// use safe_report::{Detector, SafeReporterFilter};
///
/// let filter = SafeReporterFilter::builder()
///     .disable_detector(Detector::CardNumber)
///     .session_cookie_name("shop_session")
///     .build();
/// # let _ = filter;
/// ```
#[derive(Debug, Clone)]
pub struct SafeReporterFilter {
    substitute: String,
    names: NameRules,
    names_beyond_django: bool,
    detectors: DetectorSet,
    reverse_lookup: bool,
}

impl Default for SafeReporterFilter {
    fn default() -> Self {
        Self::builder().build()
    }
}

impl SafeReporterFilter {
    /// A builder starting from the defaults.
    pub fn builder() -> SafeReporterFilterBuilder {
        SafeReporterFilterBuilder::default()
    }

    /// Exactly Django's `SafeExceptionReporterFilter`: every beyond-Django rule off.
    pub fn django() -> Self {
        Self::builder().django_parity().build()
    }

    /// Whether `detector` is on.
    pub fn detects(&self, detector: Detector) -> bool {
        self.detectors.contains(detector)
    }
}

impl ReporterFilter for SafeReporterFilter {
    fn substitute(&self) -> &str {
        &self.substitute
    }

    fn sensitive_name(&self, name: &str) -> Option<Rule> {
        self.names.check(name).map(|hit| match hit {
            NameHit::SessionCookie => Rule::SessionCookie,
            NameHit::Pattern => Rule::NamePattern,
            NameHit::Extended => Rule::ExtendedName,
        })
    }

    fn names_beyond_django(&self) -> bool {
        self.names_beyond_django
    }

    fn reverse_lookup(&self) -> bool {
        self.reverse_lookup
    }

    fn hides_client_address(&self) -> bool {
        self.detectors.contains(Detector::ClientAddress)
    }

    fn scrub_text(&self, text: &str, kind: TextKind, cx: &mut FilterContext<'_>) -> Option<String> {
        let detectors = kind.detectors(self.detectors);
        if detectors.is_empty()
            || (kind == TextKind::LookupOnly && !detect::may_hold_unshown_secret(text))
        {
            return None;
        }
        let mut spans = Vec::new();
        detect::scan(
            text,
            kind,
            detectors,
            &self.names,
            &self.substitute,
            &mut spans,
        );
        if spans.is_empty() {
            return None;
        }
        detect::merge(&mut spans);
        // What a detector found is remembered as found, too: it may appear elsewhere alone.
        detect::widen(text, &mut spans, |found| {
            cx.remember(found, &self.substitute)
        });
        for span in &spans {
            cx.count(span.rule);
            if let Some(secret) = text.get(span.start..span.end) {
                cx.remember(secret, &self.substitute);
            }
        }
        if kind == TextKind::LookupOnly {
            // Not shown: what was found is remembered, the text itself is not needed.
            return Some(String::new());
        }
        Some(detect::apply(text, &spans, &self.substitute))
    }
}

/// Builds a [`SafeReporterFilter`].
#[derive(Debug, Clone)]
#[must_use]
pub struct SafeReporterFilterBuilder {
    substitute: String,
    names: NameRuleConfig,
    names_beyond_django: bool,
    detectors: DetectorSet,
    reverse_lookup: bool,
}

impl Default for SafeReporterFilterBuilder {
    fn default() -> Self {
        Self {
            substitute: DEFAULT_SUBSTITUTE.to_owned(),
            names: NameRuleConfig::default(),
            names_beyond_django: true,
            detectors: DetectorSet::DEFAULT,
            reverse_lookup: true,
        }
    }
}

impl SafeReporterFilterBuilder {
    /// The text shown instead of hidden values. An empty substitute is replaced by the default.
    pub fn substitute(mut self, substitute: impl Into<String>) -> Self {
        let substitute = substitute.into();
        self.substitute = if substitute.is_empty() {
            DEFAULT_SUBSTITUTE.to_owned()
        } else {
            substitute
        };
        self
    }

    /// Replaces Django's hidden-name pattern. The regex is searched anywhere in a name; add
    /// `(?i)` to ignore case as Django does.
    pub fn hidden_names(mut self, pattern: Regex) -> Self {
        self.names.custom_pattern = Some(pattern);
        self
    }

    /// Switches the extended name terms (`credential`, `dsn`, `session`, `otp`, …) on or off.
    pub fn extended_names(mut self, on: bool) -> Self {
        self.names.extended = on;
        self
    }

    /// Adds a term that makes a name sensitive wherever it appears in the name (any case).
    pub fn sensitive_term(mut self, term: impl Into<String>) -> Self {
        self.names.extra_terms.push(term.into());
        self
    }

    /// Adds a short stem that makes a name sensitive when it is a whole word of the name.
    pub fn sensitive_word(mut self, word: impl Into<String>) -> Self {
        self.names.extra_words.push(word.into());
        self
    }

    /// The session cookie's name (Django's `SESSION_COOKIE_NAME`, default `sessionid`); a
    /// key with exactly this name is hidden at any level.
    pub fn session_cookie_name(mut self, name: impl Into<String>) -> Self {
        self.names.session_cookie = name.into();
        self
    }

    /// Whether the name rules also apply to GET parameters, POST fields, variable names and
    /// keys nested in variables (Django applies them to settings, headers and cookies only).
    pub fn names_beyond_django(mut self, on: bool) -> Self {
        self.names_beyond_django = on;
        self
    }

    /// Switches one value detector on (the personal data categories are off by default).
    pub fn enable_detector(mut self, detector: Detector) -> Self {
        self.detectors.set(detector, true);
        self
    }

    /// Switches one value detector off.
    pub fn disable_detector(mut self, detector: Detector) -> Self {
        self.detectors.set(detector, false);
        self
    }

    /// Switches every value detector on or off, the personal data categories that are off
    /// by default ([`Detector::HomeDirectoryUser`], [`Detector::EmailAddress`],
    /// [`Detector::ClientAddress`]) included.
    pub fn detectors(mut self, on: bool) -> Self {
        self.detectors = if on {
            DetectorSet::ALL
        } else {
            DetectorSet::NONE
        };
        self
    }

    /// Whether a value hidden anywhere is also hidden wherever else it appears.
    pub fn reverse_lookup(mut self, on: bool) -> Self {
        self.reverse_lookup = on;
        self
    }

    /// Every beyond-Django rule off: exactly Django's `SafeExceptionReporterFilter`.
    pub fn django_parity(self) -> Self {
        self.extended_names(false)
            .names_beyond_django(false)
            .detectors(false)
            .reverse_lookup(false)
    }

    /// The filter.
    pub fn build(self) -> SafeReporterFilter {
        SafeReporterFilter {
            substitute: self.substitute,
            names: NameRules::new(&self.names),
            names_beyond_django: self.names_beyond_django,
            detectors: self.detectors,
            reverse_lookup: self.reverse_lookup,
        }
    }
}
