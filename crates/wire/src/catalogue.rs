//! Every WeChat endpoint wxcard knows of, built or not. The platform's route table answers each
//! of them: a built one with its handler, an unbuilt one with a WeChat-shaped error that says so.
//! `docs/compat.md` and `wxcard routes` are generated from the same list, so they cannot drift.

use crate::endpoint::Method;

/// How far the card spec covers an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Named in the protocol notes; wxcard builds it or plans to.
    Card,
    /// Sent by real client libraries but outside wxcard's scope.
    Outside,
}

/// One endpoint of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointInfo {
    /// The method the path takes.
    pub method: Method,
    /// The path, as WeChat spells it.
    pub path: &'static str,
    /// Where the protocol notes describe it.
    pub spec: &'static str,
    /// What it does, in a few words.
    pub summary: &'static str,
    /// Whether wxcard means to build it.
    pub scope: Scope,
}

const fn endpoint(
    method: Method,
    path: &'static str,
    spec: &'static str,
    summary: &'static str,
    scope: Scope,
) -> EndpointInfo {
    EndpointInfo {
        method,
        path,
        spec,
        summary,
        scope,
    }
}

/// Every endpoint, grouped like the spec.
pub const ALL_ENDPOINTS: &[EndpointInfo] = &[
    endpoint(
        Method::Get,
        "/cgi-bin/token",
        "auth.md §1",
        "global access_token",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/cgi-bin/stable_token",
        "auth.md §1",
        "stable access_token that does not replace the global one",
        Scope::Card,
    ),
    endpoint(
        Method::Get,
        "/cgi-bin/ticket/getticket",
        "auth.md §2",
        "wx_card api_ticket and jsapi_ticket",
        Scope::Card,
    ),
    endpoint(
        Method::Get,
        "/sns/jscode2session",
        "miniprogram-jump.md §5",
        "wx.login code to Mini Program openid, session_key and unionid",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/cgi-bin/media/uploadimg",
        "cards.md §3.3",
        "upload a logo or picture, get a CDN url",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/cgi-bin/qrcode/create",
        "cards.md §10",
        "scene QR codes (the card QR goes through /card/qrcode/create)",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/cgi-bin/openapi/quota/get",
        "errors.md §10.2",
        "daily quota of one API",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/cgi-bin/openapi/quota/clear",
        "errors.md §10.2",
        "reset one API's quota",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/cgi-bin/clear_quota",
        "errors.md §10.2",
        "reset every API's quota",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/cgi-bin/clear_quota/v2",
        "errors.md §10.2",
        "reset quotas with appid and secret",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/cgi-bin/openapi/rid/get",
        "errors.md §1",
        "look up a request by its rid",
        Scope::Card,
    ),
    endpoint(
        Method::Get,
        "/card/getcolors",
        "cards.md §3.6",
        "the colour palette",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/create",
        "cards.md §3",
        "create a card template",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/get",
        "cards.md §4",
        "read a card template",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/batchget",
        "cards.md §5",
        "list card ids",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/update",
        "cards.md §6",
        "change a card template",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/delete",
        "cards.md §7",
        "delete a card template",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/modifystock",
        "cards.md §8",
        "increase or reduce stock",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/testwhitelist/set",
        "cards.md §9",
        "test whitelist for cards in review",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/qrcode/create",
        "cards.md §10",
        "a QR code that claims one or more cards",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/landingpage/create",
        "cards.md §11",
        "a landing page listing cards",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/mpnews/gethtml",
        "cards.md §12",
        "card HTML for a news article",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/paycell/set",
        "cards.md §12",
        "turn the pay cell on or off",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/selfconsumecell/set",
        "cards.md §12",
        "turn the self-consume cell on or off",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/movieticket/updateuser",
        "cards.md §12",
        "per-code movie ticket details",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/boardingpass/checkin",
        "cards.md §12",
        "per-code boarding pass check-in",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/meetingticket/updateuser",
        "cards.md §12",
        "per-code meeting ticket details",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/code/get",
        "codes.md §2",
        "query a code",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/code/consume",
        "codes.md §3",
        "redeem a code",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/code/decrypt",
        "codes.md §4",
        "encrypt_code to the real code",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/code/update",
        "codes.md §5",
        "change a custom code",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/code/unavailable",
        "codes.md §7",
        "make a code unusable",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/code/deposit",
        "codes.md §6.1",
        "import custom codes",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/code/getdepositcount",
        "codes.md §6.2",
        "how many codes are deposited",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/code/checkcode",
        "codes.md §6.3",
        "which codes were deposited",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/code/mark",
        "codes.md §9",
        "mark a code for a user",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/user/getcardlist",
        "codes.md §8",
        "a user's cards",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/membercard/activateuserform/set",
        "membercard.md §2.2",
        "the one-tap activation form",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/membercard/activate/geturl",
        "membercard.md §2.3",
        "the card-opening component's parameters",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/membercard/activatetempinfo/get",
        "membercard.md §2.4",
        "what the user filled in the component",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/membercard/activate",
        "membercard.md §2.1",
        "activate a member card",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/membercard/userinfo/get",
        "membercard.md §2.5",
        "a member's details",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/membercard/updateuser",
        "membercard.md §2.6",
        "change bonus, balance and fields of a member",
        Scope::Card,
    ),
    endpoint(
        Method::Post,
        "/card/location/batchadd",
        "clients.md (wechatpy, wechat-api)",
        "stores (outside the card & voucher scope of wxcard)",
        Scope::Outside,
    ),
    endpoint(
        Method::Post,
        "/card/location/batchget",
        "clients.md (wechatpy, wechat-api)",
        "stores (outside the card & voucher scope of wxcard)",
        Scope::Outside,
    ),
    endpoint(
        Method::Post,
        "/card/luckymoney/updateuserbalance",
        "clients.md (wechatpy)",
        "lucky-money balance (outside the scope of wxcard)",
        Scope::Outside,
    ),
    endpoint(
        Method::Post,
        "/card/luckymonkey/updateuserbalance",
        "clients.md (wechat-api spelling)",
        "lucky-money balance (outside the scope of wxcard)",
        Scope::Outside,
    ),
    endpoint(
        Method::Post,
        "/card/paygiftcard/add",
        "clients.md (wechatpy)",
        "pay-gift rules (retired by WeChat, see errors.md 73215)",
        Scope::Outside,
    ),
    endpoint(
        Method::Post,
        "/card/paygiftcard/delete",
        "clients.md (wechatpy)",
        "pay-gift rules (retired by WeChat, see errors.md 73215)",
        Scope::Outside,
    ),
    endpoint(
        Method::Post,
        "/card/paygiftcard/getbyid",
        "clients.md (wechatpy)",
        "pay-gift rules (retired by WeChat, see errors.md 73215)",
        Scope::Outside,
    ),
    endpoint(
        Method::Post,
        "/card/paygiftcard/batchget",
        "clients.md (wechatpy)",
        "pay-gift rules (retired by WeChat, see errors.md 73215)",
        Scope::Outside,
    ),
];

/// The catalogue entry for a path, if wxcard knows it.
#[must_use]
pub fn find(path: &str) -> Option<&'static EndpointInfo> {
    ALL_ENDPOINTS.iter().find(|info| info.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_appears_once() {
        let mut paths: Vec<_> = ALL_ENDPOINTS.iter().map(|info| info.path).collect();
        paths.sort_unstable();
        let before = paths.len();
        paths.dedup();
        assert_eq!(before, paths.len());
    }

    #[test]
    fn only_the_documented_paths_are_gets() {
        let gets: Vec<_> = ALL_ENDPOINTS
            .iter()
            .filter(|info| info.method == Method::Get)
            .map(|info| info.path)
            .collect();

        assert_eq!(
            gets,
            [
                "/cgi-bin/token",
                "/cgi-bin/ticket/getticket",
                "/sns/jscode2session",
                "/card/getcolors"
            ]
        );
    }
}
