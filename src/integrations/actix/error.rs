//! [`ReportedError`] as an actix-web `ResponseError`, and the report of any other one.

use actix_web::body::BoxBody;
use actix_web::{HttpResponse, ResponseError};

use crate::integrations::web::ReportedError;
use crate::model::{Capture, Cause};

impl ResponseError for ReportedError {
    fn status_code(&self) -> actix_web::http::StatusCode {
        status(self.status())
    }

    /// The status with its reason phrase as the body; the middleware finds the error in
    /// the response.
    fn error_response(&self) -> HttpResponse<BoxBody> {
        HttpResponse::build(self.status_code()).body(self.to_string())
    }
}

/// An `http` 1 status as actix-web's (`http` 0.2).
pub(super) fn status(status: http::StatusCode) -> actix_web::http::StatusCode {
    actix_web::http::StatusCode::from_u16(status.as_u16())
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR)
}

/// What a response's error reports: a [`ReportedError`] as it is; another `ResponseError`
/// as its message, with its `Debug` form as the cause when that says more.
pub(super) fn reported(error: &actix_web::Error) -> ReportedError {
    if let Some(reported) = error.as_error::<ReportedError>() {
        return reported.clone();
    }
    let inner = error.as_response_error();
    let message = inner.to_string();
    let debug = format!("{inner:?}");
    // The type, as far as the `Debug` form names it (`Overflow { limit: 10 }`).
    let type_name = debug
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .next()
        .filter(|name| !name.is_empty())
        .unwrap_or("ResponseError");
    let mut capture = Capture::error(type_name, message.clone());
    if debug != message && debug != type_name {
        capture.error.chain.push(Cause::direct(None, debug));
    }
    let status = http::StatusCode::from_u16(inner.status_code().as_u16())
        .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    ReportedError::from_capture(capture).with_status(status)
}
