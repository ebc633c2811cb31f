//! Choosing HTML, text or JSON from an `Accept` header, the way Django 6 chooses between
//! HTML and text (`HttpRequest.get_preferred_type`), with JSON offered as a third type.

use mediatype::{MediaType, MediaTypeList, names};

use crate::report::Format;

/// The media type each format is offered as.
fn offered(format: Format) -> (&'static str, &'static str) {
    match format {
        Format::Html => ("text", "html"),
        Format::Text => ("text", "plain"),
        Format::Json => ("application", "json"),
        Format::Markdown => ("text", "markdown"),
    }
}

/// Offered in this order, so ties go to HTML, then text (as in Django).
const OFFERED: [Format; 3] = [Format::Html, Format::Text, Format::Json];

struct Accepted {
    ty: String,
    subty: String,
    quality: f64,
    specificity: u8,
}

impl Accepted {
    fn from(media: &MediaType<'_>) -> Option<Self> {
        let mut quality = 1.0;
        let mut range_params = false;
        for (name, value) in media.params.iter() {
            if *name == names::Q {
                quality = parse_quality(&value.unquoted_str());
            } else {
                range_params = true;
            }
        }
        let ty = media.ty.as_str().to_ascii_lowercase();
        let mut subty = media.subty.as_str().to_ascii_lowercase();
        if let Some(suffix) = &media.suffix {
            subty.push('+');
            subty.push_str(&suffix.as_str().to_ascii_lowercase());
        }
        let specificity = if ty == "*" {
            0
        } else if subty == "*" {
            1
        } else if !range_params {
            2
        } else {
            3
        };
        (quality != 0.0).then_some(Self {
            ty,
            subty,
            quality,
            specificity,
        })
    }

    fn matches(&self, (ty, subty): (&str, &str)) -> bool {
        (self.ty == ty || self.ty == "*") && (self.subty == subty || self.subty == "*")
    }
}

/// Django: a `q` that is not a number counts as 1, one outside 0..=1 counts as 1, others
/// are rounded to 3 decimals.
fn parse_quality(text: &str) -> f64 {
    match text.trim().parse::<f64>() {
        Ok(q) if (0.0..=1.0).contains(&q) => (q * 1000.0).round() / 1000.0,
        _ => 1.0,
    }
}

/// The format to answer a client with this `Accept` header (`None`: no header).
///
/// As Django 6: a missing header counts as `*/*` (HTML); accepted types are ranked by
/// quality, then specificity, then order; each offered type takes its best-ranked matching
/// accepted type, and the offered type whose match ranks best wins, ties going to HTML, then
/// text. When nothing offered is acceptable, the text report is the answer.
///
/// ```
/// use safe_report::{Format, negotiate};
///
/// assert_eq!(negotiate(None), Format::Html);
/// assert_eq!(negotiate(Some("text/plain,text/html;q=0.9")), Format::Text);
/// assert_eq!(negotiate(Some("text/*")), Format::Html);
/// assert_eq!(negotiate(Some("application/json")), Format::Json);
/// assert_eq!(negotiate(Some("image/png")), Format::Text);
/// ```
pub fn negotiate(accept: Option<&str>) -> Format {
    let header = accept.unwrap_or("*/*");
    let mut accepted: Vec<Accepted> = MediaTypeList::new(header)
        .take(64)
        .filter_map(Result::ok)
        .filter_map(|media| Accepted::from(&media))
        .collect();
    // A stable sort keeps the header's order among equals.
    accepted.sort_by(|a, b| {
        b.quality
            .total_cmp(&a.quality)
            .then(b.specificity.cmp(&a.specificity))
    });
    OFFERED
        .iter()
        .filter_map(|&format| {
            accepted
                .iter()
                .position(|media| media.matches(offered(format)))
                .map(|rank| (rank, format))
        })
        .min_by_key(|&(rank, _)| rank)
        .map_or(Format::Text, |(_, format)| format)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Django's `test_technical_500_content_type_negotiation` table.
    #[test]
    fn django_table() {
        for (accept, expected) in [
            ("text/plain", Format::Text),
            ("text/html", Format::Html),
            ("text/html,text/plain;q=0.9", Format::Html),
            ("text/plain,text/html;q=0.9", Format::Text),
            ("text/*", Format::Html),
        ] {
            assert_eq!(negotiate(Some(accept)), expected, "{accept}");
        }
    }

    #[test]
    fn json_and_edge_cases() {
        assert_eq!(negotiate(Some("application/json")), Format::Json);
        assert_eq!(negotiate(Some("application/json, text/html")), Format::Json);
        assert_eq!(
            negotiate(Some("text/html;q=0.5, application/json;q=0.8")),
            Format::Json
        );
        assert_eq!(negotiate(Some("application/json;q=0, */*")), Format::Html);
        assert_eq!(negotiate(Some("")), Format::Text);
        assert_eq!(negotiate(Some("garbage")), Format::Text);
        assert_eq!(negotiate(Some("text/html;q=abc")), Format::Html);
        assert_eq!(
            negotiate(Some(
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
            )),
            Format::Html
        );
    }
}
