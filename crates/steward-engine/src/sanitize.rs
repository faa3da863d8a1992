//! Allow-list sanitizing of the untrusted HTML under moderation.
//!
//! This is the first of three layers (the UI renders the result in a sandboxed frame with
//! its own CSP, and the app's CSP is strict): scripts, event handlers, styles, forms,
//! frames and every remote resource are removed here. Images keep their alt text only, so
//! nothing is fetched until the moderator asks; links keep only http(s) and mailto URLs.

use std::collections::HashSet;
use std::sync::LazyLock;

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = base_builder();
    builder
        .rm_tag_attributes("img", &["src"])
        .url_schemes(HashSet::from(["http", "https", "mailto"]));
    builder
});

/// The rules every rendering of untrusted content shares.
pub(crate) fn base_builder() -> ammonia::Builder<'static> {
    let mut builder = ammonia::Builder::default();
    builder
        .rm_tag_attributes("img", &["srcset", "width", "height"])
        .link_rel(Some("noopener noreferrer nofollow"))
        .url_relative(ammonia::UrlRelative::Deny)
        .strip_comments(true);
    builder
}

/// Sanitized HTML, and how many images lost their source on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SanitizedHtml {
    pub html: String,
    pub blocked_images: i64,
}

pub fn sanitize_html(untrusted: &str) -> SanitizedHtml {
    let html = SANITIZER.clean(untrusted).to_string();
    // Every <img> that survived the allow-list had its src removed: count them so the UI
    // can say what was held back.
    let blocked_images = html.matches("<img").count() as i64;
    SanitizedHtml {
        html,
        blocked_images,
    }
}

#[cfg(test)]
mod tests {
    use crate::sanitize::sanitize_html;

    fn check_gone(input: &str, forbidden: &[&str]) {
        let output = sanitize_html(input).html.to_lowercase();
        for needle in forbidden {
            assert!(
                !output.contains(needle),
                "{input:?} kept {needle:?}: {output:?}"
            );
        }
    }

    #[test]
    fn hostile_markup_is_neutralized() {
        check_gone("<script>alert(1)</script>hi", &["<script", "alert"]);
        check_gone("<img src=x onerror=alert(1)>", &["onerror", "src="]);
        check_gone("<a href=\"javascript:alert(1)\">x</a>", &["javascript:"]);
        check_gone("<svg onload=alert(1)><circle/></svg>", &["<svg", "onload"]);
        check_gone(
            "<img src=\"http://127.0.0.1:9/x.png\">",
            &["http://127.0.0.1"],
        );
        check_gone(
            "<p style=\"background:url(http://x/y)\">t</p>",
            &["style", "url("],
        );
        check_gone("<iframe src=\"http://x\"></iframe>", &["<iframe"]);
        check_gone(
            "<form action=\"http://x\"><input></form>",
            &["<form", "<input"],
        );
    }

    #[test]
    fn harmless_markup_is_kept() {
        assert_eq!(
            sanitize_html("<p>Hello <b>there</b></p>").html,
            "<p>Hello <b>there</b></p>"
        );
        let link = sanitize_html("<a href=\"https://example.com/x\">x</a>").html;
        assert!(link.contains("href=\"https://example.com/x\""), "{link}");
        assert!(link.contains("noopener"), "{link}");
        let image = sanitize_html("<img src=\"https://x/y.png\" alt=\"cat\">");
        assert_eq!(image.html, "<img alt=\"cat\">");
        assert_eq!(image.blocked_images, 1);
    }
}
