//! The HTML the gateway shows people: plain, accessible pages that work in a narrow iframe and in
//! a tab. Markup goes through `maud`, which escapes every interpolated value.

use maud::{DOCTYPE, Markup, html};

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:0;padding:1.5rem;color:#1d1d1f;\
background:#fff}main{max-width:34rem;margin:0 auto}h1{font-size:1.4rem;margin:0 0 .75rem}\
p{margin:.5rem 0}.hint{color:#555}";

/// A whole page around `content`.
pub fn layout(title: &str, content: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " · Installgate" }
                style { (STYLE) }
            }
            body {
                main { (content) }
            }
        }
    }
    .into_string()
}

/// A page with a heading, one explanation and a hint of what to do next.
pub fn message(title: &str, explanation: &str, hint: &str) -> String {
    layout(
        title,
        html! {
            h1 { (title) }
            p { (explanation) "." }
            p class="hint" { (hint) }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolated_text_is_escaped() {
        let page = message("<b>t</b>", "x<script>alert(1)</script>", "\"hint\"");
        assert!(!page.contains("<script>"));
        assert!(page.contains("&lt;script&gt;"));
        assert!(page.contains("&lt;b&gt;t&lt;/b&gt;"));
    }
}
