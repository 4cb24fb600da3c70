//! One typed method per endpoint the platform serves; each is [`Client::call`] with the
//! endpoint's request type, so the path, method and response type come from `wxcard-wire`.

use wxcard_wire::auth::{JsCode2SessionRequest, StableTokenRequest, TicketRequest};
use wxcard_wire::card::{
    BatchGetRequest, CreateCardRequest, DeleteCardRequest, GetCardRequest, GetColorsRequest,
    LandingPageCreateRequest, ModifyStockRequest, PayCellRequest, QrCodeCreateRequest,
    SelfConsumeCellRequest, TestWhitelistRequest, UpdateCardRequest,
};
use wxcard_wire::code::{
    BoardingPassRequest, CheckCodeRequest, CodeGetRequest, CodeUpdateRequest, ConsumeRequest,
    DecryptRequest, DepositRequest, GetCardListRequest, GetDepositCountRequest, MarkRequest,
    MeetingTicketRequest, MovieTicketRequest, UnavailableRequest,
};
use wxcard_wire::member::{
    ActivateRequest, ActivateTempInfoRequest, ActivateUserFormRequest, GetActivateUrlRequest,
    MemberInfoRequest, UpdateMemberRequest,
};
use wxcard_wire::Endpoint;

use crate::{Client, Error};

macro_rules! typed_calls {
    ($($(#[doc = $doc:literal])* $name:ident($request:ty);)*) => {
        impl Client {
            $(
                $(#[doc = $doc])*
                ///
                /// # Errors
                /// The platform's errcode ([`Error::Api`]), or a transport, decode or cache
                /// failure.
                pub async fn $name(
                    &self,
                    request: &$request,
                ) -> Result<<$request as Endpoint>::Response, Error> {
                    self.call(request).await
                }
            )*
        }

        /// Every path a typed method calls, for tests that check coverage.
        #[doc(hidden)]
        pub const TYPED_PATHS: &[&str] = &[$(<$request as Endpoint>::PATH),*];
    };
}

typed_calls! {
    /// `POST /cgi-bin/stable_token`: a stable access_token (see also [`Client::access_token`]).
    stable_token(StableTokenRequest);
    /// `GET /cgi-bin/ticket/getticket` (see also [`Client::api_ticket`], which caches).
    get_ticket(TicketRequest);
    /// `GET /sns/jscode2session`: a Mini Program's `wx.login` code → openid, session_key,
    /// unionid (use a client of the Mini Program).
    jscode2session(JsCode2SessionRequest);
    /// `GET /card/getcolors`: the card colour palette.
    get_colors(GetColorsRequest);
    /// `POST /card/create`: a card template.
    create_card(CreateCardRequest);
    /// `POST /card/get`: a card template as created, with the server's fields.
    get_card(GetCardRequest);
    /// `POST /card/batchget`: card_ids of this account.
    batch_get_cards(BatchGetRequest);
    /// `POST /card/update`: changes the updatable fields of a card.
    update_card(UpdateCardRequest);
    /// `POST /card/delete`: deletes a card template.
    delete_card(DeleteCardRequest);
    /// `POST /card/modifystock`: adds to or takes from a card's stock.
    modify_stock(ModifyStockRequest);
    /// `POST /card/testwhitelist/set`: users who may claim cards under review.
    set_test_whitelist(TestWhitelistRequest);
    /// `POST /card/qrcode/create`: a QR code that hands out cards.
    create_qrcode(QrCodeCreateRequest);
    /// `POST /card/landingpage/create`: a page listing cards.
    create_landing_page(LandingPageCreateRequest);
    /// `POST /card/paycell/set`: the quick-pay cell of a card.
    set_pay_cell(PayCellRequest);
    /// `POST /card/selfconsumecell/set`: the self-redeem cell of a card.
    set_self_consume_cell(SelfConsumeCellRequest);
    /// `POST /card/code/get`: a code, its window and whether it can be consumed.
    get_code(CodeGetRequest);
    /// `POST /card/code/consume`: redeems a code, once.
    consume_code(ConsumeRequest);
    /// `POST /card/code/decrypt`: the real code behind an encrypt_code.
    decrypt_code(DecryptRequest);
    /// `POST /card/code/update`: gives a custom-code card's code a new code string.
    update_code(CodeUpdateRequest);
    /// `POST /card/code/unavailable`: makes a code unusable for good.
    make_code_unavailable(UnavailableRequest);
    /// `POST /card/code/deposit`: imports up to 100 codes for a deposit-mode card.
    deposit_codes(DepositRequest);
    /// `POST /card/code/getdepositcount`: how many codes were deposited.
    get_deposit_count(GetDepositCountRequest);
    /// `POST /card/code/checkcode`: which codes were deposited.
    check_codes(CheckCodeRequest);
    /// `POST /card/user/getcardlist`: the codes a user holds.
    get_card_list(GetCardListRequest);
    /// `POST /card/code/mark`: marks a friends' coupon code for a user.
    mark_code(MarkRequest);
    /// `POST /card/movieticket/updateuser`: a movie ticket's seat and show.
    update_movie_ticket(MovieTicketRequest);
    /// `POST /card/boardingpass/checkin`: a boarding pass's check-in details.
    check_in_boarding_pass(BoardingPassRequest);
    /// `POST /card/meetingticket/updateuser`: a meeting ticket's details.
    update_meeting_ticket(MeetingTicketRequest);
    /// `POST /card/membercard/activateuserform/set`: the one-tap activation form of a card.
    set_activate_user_form(ActivateUserFormRequest);
    /// `POST /card/membercard/activate/geturl`: the card-opening link; read its `extraData`
    /// with [`crate::ActivateLink::parse`].
    get_activate_url(GetActivateUrlRequest);
    /// `POST /card/membercard/activatetempinfo/get`: what a user submitted (jump-type).
    get_activate_temp_info(ActivateTempInfoRequest);
    /// `POST /card/membercard/activate`: activates a member.
    activate_member(ActivateRequest);
    /// `POST /card/membercard/userinfo/get`: a member.
    get_member_info(MemberInfoRequest);
    /// `POST /card/membercard/updateuser`: changes a member's points, balance and fields.
    update_member(UpdateMemberRequest);
}
