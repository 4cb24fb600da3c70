//! Handlers of member cards (spec/membercard.md §2): the activation form, the card-opening
//! link, submitted form data, activation, member details and updates.

use axum::extract::State;
use axum::http::HeaderMap;
use wxcard_wire::card::Empty;
use wxcard_wire::member::{
    ActivateRequest, ActivateTempInfoRequest, ActivateTempInfoResponse, ActivateUserFormRequest,
    GetActivateUrlRequest, GetActivateUrlResponse, MemberInfoRequest, MemberInfoResponse,
    UpdateMemberRequest, UpdateMemberResponse,
};

use crate::domain::auth::Caller;
use crate::domain::members::{percent_encode, Activation, MemberUpdate};
use crate::http::card::base_url;
use crate::http::error::HttpError;
use crate::http::extract::WxJson;
use crate::http::respond::WxOk;
use crate::http::AppState;

/// `POST /card/membercard/activateuserform/set`: the one-tap activation form of a card.
pub(crate) async fn set_form(
    State(app): State<AppState>,
    caller: Caller,
    WxJson(request): WxJson<ActivateUserFormRequest>,
) -> Result<WxOk<Empty>, HttpError> {
    app.members
        .set_form(&caller.appid, convert::form(request))
        .await?;
    Ok(WxOk(Empty {}))
}

/// `POST /card/membercard/activate/geturl`: the card-opening link.
///
/// Compat: membercard.md §2.3 — the observed shape, with its doubled `&&` and
/// `#wechat_redirect`, on this server's host instead of mp.weixin.qq.com.
pub(crate) async fn activate_url(
    State(app): State<AppState>,
    headers: HeaderMap,
    caller: Caller,
    WxJson(request): WxJson<GetActivateUrlRequest>,
) -> Result<WxOk<GetActivateUrlResponse>, HttpError> {
    let link = app
        .members
        .activate_link(&caller.appid, &request.card_id, request.outer_str)
        .await?;
    Ok(WxOk(GetActivateUrlResponse {
        url: format!(
            "{}/bizmall/activatemembercard?action=preshow&&encrypt_card_id={}&outer_str={}&biz={}#wechat_redirect",
            base_url(&headers),
            percent_encode(&link.encrypt_card_id),
            percent_encode(&link.outer_str),
            percent_encode(&link.biz),
        ),
    }))
}

/// `POST /card/membercard/activatetempinfo/get`: what a user submitted (jump-type cards).
pub(crate) async fn temp_info(
    State(app): State<AppState>,
    caller: Caller,
    WxJson(request): WxJson<ActivateTempInfoRequest>,
) -> Result<WxOk<ActivateTempInfoResponse>, HttpError> {
    let info = app
        .members
        .temp_info(&caller.appid, &request.activate_ticket)
        .await?;
    Ok(WxOk(ActivateTempInfoResponse {
        info: convert::data_out(info),
    }))
}

/// `POST /card/membercard/activate`: activates a member.
pub(crate) async fn activate(
    State(app): State<AppState>,
    caller: Caller,
    WxJson(request): WxJson<ActivateRequest>,
) -> Result<WxOk<Empty>, HttpError> {
    let activation = Activation {
        membership_number: request.membership_number,
        code: request.code,
        card_id: request.card_id,
        background_pic_url: request.background_pic_url,
        activate_begin_time: request.activate_begin_time,
        activate_end_time: request.activate_end_time,
        init_bonus: request.init_bonus,
        init_bonus_record: request.init_bonus_record,
        init_balance: request.init_balance,
        init_custom_field_value1: request.init_custom_field_value1,
        init_custom_field_value2: request.init_custom_field_value2,
        init_custom_field_value3: request.init_custom_field_value3,
    };
    app.members.activate(&caller.appid, activation).await?;
    Ok(WxOk(Empty {}))
}

/// `POST /card/membercard/userinfo/get`: a member.
pub(crate) async fn user_info(
    State(app): State<AppState>,
    caller: Caller,
    WxJson(request): WxJson<MemberInfoRequest>,
) -> Result<WxOk<MemberInfoResponse>, HttpError> {
    let view = app
        .members
        .info(&caller.appid, &request.card_id, &request.code)
        .await?;
    let sex = match view.user.profile.get("sex").map(String::as_str) {
        Some("male" | "MALE" | "m" | "1") => "MALE",
        Some("female" | "FEMALE" | "f" | "2") => "FEMALE",
        _ => "",
    };
    Ok(WxOk(MemberInfoResponse {
        openid: view.user_card.openid,
        nickname: view.user.nickname,
        membership_number: view.member.membership_number,
        bonus: view.member.bonus,
        balance: view.member.balance,
        sex: sex.to_owned(),
        user_info: convert::data_out(view.member.user_info),
        user_card_status: view.status.as_str().to_owned(),
        has_active: view.member.has_active,
    }))
}

/// `POST /card/membercard/updateuser`: changes points, balance and field values.
pub(crate) async fn update_user(
    State(app): State<AppState>,
    caller: Caller,
    WxJson(request): WxJson<UpdateMemberRequest>,
) -> Result<WxOk<UpdateMemberResponse>, HttpError> {
    // Compat: membercard.md §2.6 — notify_optional only steers WeChat's notices to the
    // user, which wxcard does not send; it is accepted and ignored.
    let update = MemberUpdate {
        code: request.code,
        card_id: request.card_id,
        background_pic_url: request.background_pic_url,
        bonus: request.bonus,
        add_bonus: request.add_bonus,
        record_bonus: request.record_bonus,
        balance: request.balance,
        add_balance: request.add_balance,
        record_balance: request.record_balance,
        custom_field_value1: request.custom_field_value1,
        custom_field_value2: request.custom_field_value2,
        custom_field_value3: request.custom_field_value3,
    };
    let (member, user_card) = app.members.update(&caller.appid, update).await?;
    Ok(WxOk(UpdateMemberResponse {
        result_bonus: member.bonus,
        result_balance: member.balance,
        openid: user_card.openid,
    }))
}

/// Wire shapes to domain ones and back.
pub(crate) mod convert {
    use wxcard_wire::member as wire;

    use crate::domain::members as domain;

    pub(crate) fn link(link: wire::FormLink) -> domain::FormLink {
        domain::FormLink {
            name: link.name,
            url: link.url,
        }
    }

    fn half(half: wire::ActivateForm) -> domain::FormHalf {
        domain::FormHalf {
            can_modify: half.can_modify,
            common_field_id_list: half.common_field_id_list,
            custom_field_list: half.custom_field_list,
            rich_field_list: half
                .rich_field_list
                .into_iter()
                .map(|field| domain::ChoiceField {
                    field_type: field.field_type,
                    name: field.name,
                    values: field.values,
                })
                .collect(),
        }
    }

    pub(crate) fn form(form: wire::ActivateUserFormRequest) -> domain::ActivationForm {
        domain::ActivationForm {
            card_id: form.card_id,
            service_statement: form.service_statement.map(link),
            bind_old_card: form.bind_old_card.map(link),
            required_form: form.required_form.map(half),
            optional_form: form.optional_form.map(half),
        }
    }

    pub(crate) fn data_in(data: wire::UserInfo) -> domain::FormData {
        domain::FormData {
            common_field_list: data
                .common_field_list
                .into_iter()
                .map(|field| domain::CommonAnswer {
                    name: field.name,
                    value: field.value,
                })
                .collect(),
            custom_field_list: data
                .custom_field_list
                .into_iter()
                .map(|field| domain::CustomAnswer {
                    name: field.name,
                    value: field.value,
                    value_list: field.value_list,
                })
                .collect(),
        }
    }

    pub(crate) fn data_out(data: domain::FormData) -> wire::UserInfo {
        wire::UserInfo {
            common_field_list: data
                .common_field_list
                .into_iter()
                .map(|field| wire::CommonFieldValue {
                    name: field.name,
                    value: field.value,
                })
                .collect(),
            custom_field_list: data
                .custom_field_list
                .into_iter()
                .map(|field| wire::CustomFieldValue {
                    name: field.name,
                    value: field.value,
                    value_list: field.value_list,
                })
                .collect(),
        }
    }
}
