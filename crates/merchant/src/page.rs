//! The page at `/`: what the merchant server recorded, as plain HTML.

use crate::store::Recorded;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The records as a page readable at a phone width and a desktop width.
pub(crate) fn render(recorded: &Recorded) -> String {
    let mut out = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>wxcard merchant: records</title><link rel=\"icon\" href=\"data:,\"><style>\
         body{font-family:system-ui,sans-serif;margin:1rem;max-width:70rem}\
         table{border-collapse:collapse;width:100%;margin-bottom:1.5rem;font-size:.9rem}\
         th,td{border-bottom:1px solid #ddd;padding:.3rem;text-align:left;word-break:break-all}\
         pre{white-space:pre-wrap;font-size:.75rem;margin:0}</style></head><body>\
         <h1>What the merchant server recorded</h1>",
    );
    out.push_str("<h2>Claims</h2><table><tr><th>Mini Program openid</th><th>Service Account openid</th><th>card_id</th><th>code</th><th>outer_str</th></tr>");
    for claim in &recorded.claims {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&claim.mp_openid),
            escape(claim.sa_openid.as_deref().unwrap_or("")),
            escape(&claim.card_id),
            escape(&claim.code),
            escape(claim.outer_str.as_deref().unwrap_or(""))
        ));
    }
    out.push_str("</table><h2>Members</h2><table><tr><th>card_id</th><th>code</th><th>membership_number</th><th>form</th></tr>");
    for member in &recorded.members {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><pre>{}</pre></td></tr>",
            escape(&member.card_id),
            escape(&member.code),
            escape(&member.membership_number),
            escape(&member.form.to_string())
        ));
    }
    out.push_str("</table><h2>Pushed events</h2><table><tr><th>event</th><th>FromUserName</th><th>card_id</th><th>code</th><th>deliveries</th><th>XML</th></tr>");
    for event in &recorded.events {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><pre>{}</pre></td></tr>",
            escape(&event.event),
            escape(&event.sa_openid),
            escape(&event.card_id),
            escape(&event.code),
            event.deliveries,
            escape(&event.xml)
        ));
    }
    out.push_str("</table><h2>Users by unionid</h2><table><tr><th>unionid</th><th>Mini Program openid</th><th>Service Account openid</th></tr>");
    for user in &recorded.users {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&user.unionid),
            escape(user.mp_openid.as_deref().unwrap_or("")),
            escape(user.sa_openid.as_deref().unwrap_or(""))
        ));
    }
    out.push_str("</table></body></html>");
    out
}
