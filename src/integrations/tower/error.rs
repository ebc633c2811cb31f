//! [`ReportedError`] as an axum response.

use crate::integrations::web::ReportedError;

#[cfg(feature = "axum")]
impl axum::response::IntoResponse for ReportedError {
    /// The status with its reason phrase as the body, and the error in the extensions.
    fn into_response(self) -> axum::response::Response {
        let reason = self.status().canonical_reason().unwrap_or("Error");
        let mut response = (self.status(), reason).into_response();
        response.extensions_mut().insert(self);
        response
    }
}
