//! What only the actix-web middleware does: any `ResponseError` reported with its status and
//! message, `RequestReport` as an actix extractor, a user from actix's request extensions,
//! a JSON body buffered for the report and still read by `web::Json`, the application's own
//! template for the page, a panic answered with the page. In process, through actix-web's
//! test service.
#![cfg(feature = "actix")]

use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::{App, HttpMessage, HttpResponse, ResponseError, test, web};
use safe_report::integrations::actix::{ErrorReportMiddleware, ReportedError, RequestReport};

#[derive(Debug)]
struct QuotaExceeded {
    tenant: u32,
}

impl std::fmt::Display for QuotaExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "quota exceeded for tenant {}", self.tenant)
    }
}

impl ResponseError for QuotaExceeded {
    fn status_code(&self) -> StatusCode {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

async fn quota() -> Result<HttpResponse, QuotaExceeded> {
    Err(QuotaExceeded { tenant: 7 })
}

async fn named(report: RequestReport) -> Result<HttpResponse, ReportedError> {
    assert!(report.is_attached());
    report.user("alice");
    Err(std::io::Error::other("the profile store is down"))?
}

#[derive(serde::Deserialize)]
struct Order {
    sku: String,
}

async fn order(order: web::Json<Order>) -> Result<HttpResponse, ReportedError> {
    Err(std::io::Error::other(format!("no stock for {}", order.sku)))?
}

async fn panics() -> HttpResponse {
    panic!("the handler panicked")
}

/// The user an authentication middleware outside would set.
struct User(String);

impl std::fmt::Display for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The test app in debug mode, as an initialised test service.
macro_rules! app {
    () => {
        test::init_service(
            App::new()
                .route("/quota", web::get().to(quota))
                .route("/named", web::get().to(named))
                .route("/order", web::post().to(order))
                .route("/panic", web::get().to(panics))
                .route("/user", web::get().to(quota))
                .wrap(
                    ErrorReportMiddleware::new()
                        .debug(true)
                        .user_extension::<User>(),
                )
                .wrap_fn(|request, service| {
                    // An authentication middleware outside the error-report middleware.
                    if request.path() == "/user" {
                        request.extensions_mut().insert(User("bob".to_owned()));
                    }
                    service.call(request)
                }),
        )
        .await
    };
}

/// The body of the response, or of the error's response (a panic's page).
async fn text(
    result: Result<ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error>,
) -> (StatusCode, String) {
    match result {
        Ok(response) => {
            let status = response.status();
            let body = test::read_body(response).await;
            (status, String::from_utf8(body.to_vec()).unwrap())
        }
        Err(error) => {
            let response = error.error_response();
            let status = response.status();
            let body = actix_web::body::to_bytes(response.into_body())
                .await
                .unwrap();
            (status, String::from_utf8(body.to_vec()).unwrap())
        }
    }
}

fn get(path: &str) -> test::TestRequest {
    test::TestRequest::get()
        .uri(path)
        .insert_header(("accept", "text/plain"))
}

#[test]
fn any_response_error_is_reported_with_its_status_and_message() {
    actix_web::rt::System::new().block_on(async {
        let app = app!();
        let (status, body) = text(app.call(get("/quota").to_request()).await).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body.contains("quota exceeded for tenant 7"), "{body}");
        assert!(body.contains("QuotaExceeded"), "{body}");
        assert!(body.contains("Raised during: /quota"), "{body}");
    });
}

#[test]
fn request_report_is_an_extractor_and_names_the_user() {
    actix_web::rt::System::new().block_on(async {
        let app = app!();
        let (status, body) = text(app.call(get("/named").to_request()).await).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(body.contains("USER: alice"), "{body}");
        assert!(body.contains("the profile store is down"), "{body}");
    });
}

#[test]
fn the_user_comes_from_an_extension_set_outside() {
    actix_web::rt::System::new().block_on(async {
        let app = app!();
        let (_, body) = text(app.call(get("/user").to_request()).await).await;
        assert!(body.contains("USER: bob"), "{body}");
    });
}

#[test]
fn a_json_body_is_in_the_report_and_the_handler_still_reads_it() {
    actix_web::rt::System::new().block_on(async {
        let app = app!();
        let request = test::TestRequest::post()
            .uri("/order")
            .insert_header(("accept", "text/plain"))
            .insert_header(("content-type", "application/json"))
            .set_payload(r#"{"sku":"sku-17","api_key":"k-123456789"}"#)
            .to_request();
        let (status, body) = text(app.call(request).await).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        // The handler read the body: its error names the SKU.
        assert!(body.contains("no stock for sku-17"), "{body}");
        assert!(body.contains("JSON body:"), "{body}");
        assert!(body.contains("sku-17"), "{body}");
        assert!(!body.contains("k-123456789"), "{body}");
    });
}

#[test]
fn a_panic_in_a_handler_is_answered_with_the_page() {
    actix_web::rt::System::new().block_on(async {
        let app = app!();
        let (status, body) = text(app.call(get("/panic").to_request()).await).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            body.starts_with("panic at /panic\nthe handler panicked"),
            "{body}"
        );
    });
}

#[test]
fn each_request_keeps_its_own_breadcrumbs() {
    use safe_report::BreadcrumbLevel;
    use safe_report::runtime::breadcrumbs::record;

    async fn noted() -> HttpResponse {
        record(
            BreadcrumbLevel::Info,
            "shop",
            format_args!("noted by another request"),
        );
        HttpResponse::Ok().finish()
    }
    async fn noted_panic() -> HttpResponse {
        record(
            BreadcrumbLevel::Info,
            "shop",
            format_args!("charging order ord_42"),
        );
        panic!("declined")
    }
    actix_web::rt::System::new().block_on(async {
        // One thread serves both requests: without a trail per request, the panic's report
        // would carry what the first request logged.
        let app = test::init_service(
            App::new()
                .route("/noted", web::get().to(noted))
                .route("/noted-panic", web::get().to(noted_panic))
                .wrap(ErrorReportMiddleware::new().debug(true)),
        )
        .await;
        let (status, _) = text(app.call(get("/noted").to_request()).await).await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = text(app.call(get("/noted-panic").to_request()).await).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(body.contains("charging order ord_42"), "{body}");
        assert!(!body.contains("noted by another request"), "{body}");
    });
}

/// A text page of the application's own: the error's type and the query's parameters.
struct House;

impl safe_report::ReportTemplate for House {
    fn page(
        &self,
        report: &safe_report::Report,
        format: safe_report::Format,
    ) -> Result<String, safe_report::render::TemplateError> {
        let mut page = format!("HOUSE {}", report.exception_type.as_deref().unwrap_or("?"));
        if let Some(request) = &report.request {
            for entry in &request.get {
                page.push_str(&format!("\n{}={}", entry.name, entry.value));
            }
        }
        match format {
            safe_report::Format::Text => Ok(page),
            other => Ok(report.render(other)),
        }
    }
}

#[test]
fn the_middleware_answers_with_the_applications_template_from_the_filtered_report() {
    actix_web::rt::System::new().block_on(async {
        let app = test::init_service(
            App::new()
                .route("/quota", web::get().to(quota))
                .wrap(ErrorReportMiddleware::new().debug(true).template(House)),
        )
        .await;
        let request = get("/quota?api_key=sk_live_4eC39HqLyjWDarjtT1zdp7dc&tenant=7").to_request();
        let (status, body) = text(app.call(request).await).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            body,
            format!(
                "HOUSE QuotaExceeded\napi_key=\"{}\"\ntenant=\"7\"",
                safe_report::DEFAULT_SUBSTITUTE
            )
        );
    });
}
