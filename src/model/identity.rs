//! Which deployment an error comes from: its environment (`production`, `staging`), its
//! release and its server's name.
//!
//! # Example
//! ```
//! use safe_report::Identity;
//!
//! let identity = Identity::new()
//!     .environment("staging")
//!     .release("shop@1.4.2+3f2a9c1")
//!     .server_name("web-3");
//! assert_eq!(identity.environment.as_deref(), Some("staging"));
//! // Installed once, early in `main`: every capture of the process then carries it.
//! // identity.install()?;
//! ```
//!
//! Reports show it in their environment section, admin emails in their subject
//! (`[prefix][staging] ERROR …`), flood control and server-side grouping keep the
//! environments apart, and the Sentry sink sends it as the event's `environment`,
//! `release` and `server_name`.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The environment variable naming the environment (`production`, `staging`).
pub const ENVIRONMENT_VAR: &str = "SAFE_REPORT_ENVIRONMENT";
/// The environment variable naming the release (`shop@1.4.2`).
pub const RELEASE_VAR: &str = "SAFE_REPORT_RELEASE";
/// The environment variable naming the server (default: the host name).
pub const SERVER_NAME_VAR: &str = "SAFE_REPORT_SERVER_NAME";

/// The environment, release and server name of a deployment.
///
/// Each part is optional; an unset part is not shown. [`Identity::from_env`] reads them
/// from `SAFE_REPORT_ENVIRONMENT`, `SAFE_REPORT_RELEASE` and `SAFE_REPORT_SERVER_NAME`;
/// a library cannot see the application's name and version, so the application gives its
/// release with [`release!`](crate::release) as the default:
///
/// ```
/// use safe_report::Identity;
///
/// let identity = Identity::from_env().default_release(safe_report::release!());
/// // `SAFE_REPORT_RELEASE` wins over the compiled-in name and version when set.
/// # if std::env::var_os("SAFE_REPORT_RELEASE").is_none() {
/// assert!(identity.release.unwrap().starts_with("safe-report@"));
/// # }
/// ```
///
/// Without [`install`](Self::install), the process's identity is read from the
/// environment variables the first time it is needed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[must_use = "an Identity does nothing until installed or attached to a capture"]
#[non_exhaustive]
pub struct Identity {
    /// The environment (`production`, `staging`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The release (`shop@1.4.2+3f2a9c1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// The server's name, when it is not the host name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
}

/// [`Identity::install`] was called before.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IdentityInstalled;

impl std::fmt::Display for IdentityInstalled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an identity was installed already")
    }
}

impl std::error::Error for IdentityInstalled {}

static INSTALLED: OnceLock<Identity> = OnceLock::new();
static FROM_ENV: OnceLock<Identity> = OnceLock::new();

impl Identity {
    /// No environment, release or server name.
    pub fn new() -> Self {
        Self::default()
    }

    /// From `SAFE_REPORT_ENVIRONMENT`, `SAFE_REPORT_RELEASE` and `SAFE_REPORT_SERVER_NAME`
    /// (unset, empty or not Unicode: not set).
    pub fn from_env() -> Self {
        let var = |name| {
            std::env::var(name)
                .ok()
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        Self {
            environment: var(ENVIRONMENT_VAR),
            release: var(RELEASE_VAR),
            server_name: var(SERVER_NAME_VAR),
        }
    }

    /// Sets the environment.
    pub fn environment(mut self, environment: impl Into<String>) -> Self {
        self.environment = Some(environment.into());
        self
    }

    /// Sets the release.
    pub fn release(mut self, release: impl Into<String>) -> Self {
        self.release = Some(release.into());
        self
    }

    /// Sets the release unless one is set already (by `SAFE_REPORT_RELEASE`, say).
    pub fn default_release(mut self, release: impl Into<String>) -> Self {
        if self.release.is_none() {
            self.release = Some(release.into());
        }
        self
    }

    /// Sets the server name (default: the host name).
    pub fn server_name(mut self, server_name: impl Into<String>) -> Self {
        self.server_name = Some(server_name.into());
        self
    }

    /// Makes this the identity of every capture the process makes from now on. Once per
    /// process; a second call errs and changes nothing.
    pub fn install(self) -> Result<(), IdentityInstalled> {
        INSTALLED.set(self).map_err(|_| IdentityInstalled)
    }

    /// The process's identity: the installed one, else the one read from the environment
    /// variables (once, the first time it is asked for).
    pub fn current() -> &'static Identity {
        match INSTALLED.get() {
            Some(identity) => identity,
            None => FROM_ENV.get_or_init(Identity::from_env),
        }
    }

    /// Whether no part is set.
    pub fn is_empty(&self) -> bool {
        self.environment.is_none() && self.release.is_none() && self.server_name.is_none()
    }
}

/// The application's release: `name@version`, from the calling crate's `CARGO_PKG_NAME`
/// and `CARGO_PKG_VERSION`, with `+revision` when `SAFE_REPORT_GIT_REVISION` was set
/// while it was compiled (from a `build.rs` with
/// `println!("cargo:rustc-env=SAFE_REPORT_GIT_REVISION={rev}")`, or by the build's
/// environment).
///
/// ```
/// let release: String = safe_report::release!();
/// assert!(release.starts_with(concat!("safe-report@", env!("CARGO_PKG_VERSION"))));
/// ```
#[macro_export]
macro_rules! release {
    () => {
        match ::core::option_env!("SAFE_REPORT_GIT_REVISION") {
            ::core::option::Option::Some(revision) if !revision.is_empty() => ::std::format!(
                "{}@{}+{}",
                ::core::env!("CARGO_PKG_NAME"),
                ::core::env!("CARGO_PKG_VERSION"),
                revision
            ),
            _ => ::std::string::String::from(::core::concat!(
                ::core::env!("CARGO_PKG_NAME"),
                "@",
                ::core::env!("CARGO_PKG_VERSION")
            )),
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_default_release_does_not_replace_a_set_one() {
        let identity = Identity::new()
            .release("from-env")
            .default_release("compiled");
        assert_eq!(identity.release.as_deref(), Some("from-env"));
        let identity = Identity::new().default_release("compiled");
        assert_eq!(identity.release.as_deref(), Some("compiled"));
    }
}
