//! Where an error happened: executable, versions, target, host, process and time, and the
//! deployment's [`Identity`].

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::Identity;

/// The environment of the process where the error happened.
///
/// [`Environment::current`] reads it from the running process; the Rust version and target
/// are those this crate was compiled with.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Environment {
    /// The path of the running executable.
    #[serde(default)]
    pub executable: Option<String>,
    /// The application's crate name and version, when the application gave them.
    #[serde(default)]
    pub application: Option<String>,
    /// The version of safe-report.
    #[serde(default)]
    pub safe_report_version: Option<String>,
    /// The `rustc` version the code was compiled with.
    #[serde(default)]
    pub rustc_version: Option<String>,
    /// The target triple.
    #[serde(default)]
    pub target: Option<String>,
    /// The host name.
    #[serde(default)]
    pub hostname: Option<String>,
    /// The process id.
    #[serde(default)]
    pub pid: Option<u32>,
    /// The thread the error happened on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<String>,
    /// The server time when the error was captured.
    #[serde(default)]
    pub server_time: Option<jiff::ZonedDateTime>,
    /// The deployment: environment, release and server name.
    #[serde(default, skip_serializing_if = "Identity::is_empty")]
    pub identity: Identity,
}

impl Environment {
    /// The environment of the running process, now. The executable, host name and time
    /// zone are read the first time and reused (a process that changes its host name keeps
    /// the first one).
    ///
    /// ```
    /// let env = safe_report::Environment::current();
    /// assert_eq!(env.pid, Some(std::process::id()));
    /// assert!(env.rustc_version.unwrap().starts_with("rustc "));
    /// ```
    pub fn current() -> Self {
        // What does not change while the process runs is read once.
        static STATIC: OnceLock<(Environment, jiff::tz::TimeZone)> = OnceLock::new();
        let (fixed, zone) = STATIC.get_or_init(|| {
            let fixed = Environment {
                executable: std::env::current_exe()
                    .ok()
                    .map(|path| path.display().to_string()),
                application: None,
                safe_report_version: Some(env!("CARGO_PKG_VERSION").to_owned()),
                rustc_version: Some(env!("SAFE_REPORT_RUSTC_VERSION").to_owned()),
                target: Some(env!("SAFE_REPORT_TARGET").to_owned()),
                hostname: Some(host_name()),
                pid: Some(std::process::id()),
                thread: None,
                server_time: None,
                identity: Identity::default(),
            };
            let zone = jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC);
            (fixed, zone)
        });
        Self {
            server_time: Some(jiff::Timestamp::now().to_zoned_datetime(zone.clone())),
            identity: Identity::current().clone(),
            ..fixed.clone()
        }
    }

    /// Names the application, typically `concat!(env!("CARGO_PKG_NAME"), " ", env!("CARGO_PKG_VERSION"))`.
    #[must_use]
    pub fn application(mut self, name_and_version: impl Into<String>) -> Self {
        self.application = Some(name_and_version.into());
        self
    }

    /// Sets the deployment's environment, release and server name.
    #[must_use]
    pub fn identity(mut self, identity: Identity) -> Self {
        self.identity = identity;
        self
    }
}

/// The machine's host name (what `gethostname(2)` returns). On Linux the kernel exposes it
/// as a file; elsewhere the `gethostname` crate asks the system.
pub(crate) fn host_name() -> String {
    #[cfg(target_os = "linux")]
    {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|name| name.trim_end_matches('\n').to_owned())
            .unwrap_or_default()
    }
    #[cfg(not(target_os = "linux"))]
    {
        gethostname::gethostname().to_string_lossy().into_owned()
    }
}
