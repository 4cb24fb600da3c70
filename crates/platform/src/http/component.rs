//! Simulator handlers of the card-opening component and card entries (DESIGN.md §8):
//! `navigateToMiniProgram`, the component's form, submit, cancel, and taps on a card.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use wxcard_wire::admin::{
    ComponentField, ComponentForm, ComponentMember, ComponentView, OnShowOptions, ReferrerInfo,
    SimNavigateRequest, SimNavigateResponse, SimTapRequest, SimTapResponse,
};
use wxcard_wire::member::{FormLink, UserInfo};

use crate::domain::members::{Return, ScreenForm};
use crate::http::error::HttpError;
use crate::http::extract::WxJson;
use crate::http::respond::WxOk;
use crate::http::sim::domain_fail;
use crate::http::AppState;

/// `POST /sim/v1/navigateToMiniProgram`: with the card-opening component's appId and the
/// geturl values as extraData, opens a component session; anything the client or the
/// component would refuse fails with a diagnosis.
pub(crate) async fn navigate(
    State(app): State<AppState>,
    WxJson(request): WxJson<SimNavigateRequest>,
) -> Response {
    const API: &str = "navigateToMiniProgram";
    match app
        .members
        .open_component(
            &request.user_id,
            &request.appid,
            &request.app_id,
            request.extra_data,
        )
        .await
    {
        Ok(session) => WxOk(SimNavigateResponse {
            err_msg: format!("{API}:ok"),
            session,
        })
        .into_response(),
        Err(error) => domain_fail(API, error, None, None),
    }
}

/// `GET /sim/v1/component/{session}`: the form as the component shows it.
pub(crate) async fn view(
    State(app): State<AppState>,
    Path(session): Path<String>,
) -> Result<WxOk<ComponentView>, HttpError> {
    let screen = app.members.component(&session).await?;
    Ok(WxOk(ComponentView {
        session: screen.session,
        status: screen.status,
        variant: screen.variant,
        card: screen.card,
        service_statement: screen.service_statement.map(|link| FormLink {
            name: link.name,
            url: link.url,
        }),
        bind_old_card: screen.bind_old_card.map(|link| FormLink {
            name: link.name,
            url: link.url,
        }),
        required_form: form(screen.required_form),
        optional_form: form(screen.optional_form),
        member: ComponentMember {
            holds_card: screen.member.holds_card,
            code: screen.member.code,
            active: screen.member.active,
            unionid_known_to_merchant: screen.member.unionid_known_to_merchant,
            kind: screen.member.kind,
        },
    }))
}

/// `POST /sim/v1/component/{session}/submit`: the user submits the form.
pub(crate) async fn submit(
    State(app): State<AppState>,
    Path(session): Path<String>,
    WxJson(submitted): WxJson<UserInfo>,
) -> Result<WxOk<OnShowOptions>, HttpError> {
    let submitted = super::member::convert::data_in(submitted);
    Ok(WxOk(on_show(
        app.members.submit(&session, submitted).await?,
    )))
}

/// `POST /sim/v1/component/{session}/cancel`: the user backs out.
pub(crate) async fn cancel(
    State(app): State<AppState>,
    Path(session): Path<String>,
) -> Result<WxOk<OnShowOptions>, HttpError> {
    Ok(WxOk(on_show(app.members.cancel(&session).await?)))
}

/// `POST /sim/v1/tap`: the user taps an entry of a card in the card package.
pub(crate) async fn tap(
    State(app): State<AppState>,
    WxJson(request): WxJson<SimTapRequest>,
) -> Result<WxOk<SimTapResponse>, HttpError> {
    let target = app
        .members
        .tap(
            &request.user_id,
            &request.card_id,
            &request.code,
            &request.entry,
        )
        .await?;
    Ok(WxOk(SimTapResponse {
        kind: target.kind,
        user_name: target.user_name,
        appid: target.appid,
        path: target.path,
        query: target.query,
        scene: target.scene,
        url: target.url,
    }))
}

fn form(form: ScreenForm) -> ComponentForm {
    ComponentForm {
        can_modify: form.can_modify,
        fields: form
            .fields
            .into_iter()
            .map(|field| ComponentField {
                kind: field.kind,
                name: field.name,
                value: field.value,
                value_list: field.value_list,
                field_type: field.field_type,
                values: field.values,
                prefilled_from: field.prefilled_from,
            })
            .collect(),
    }
}

fn on_show(back: Return) -> OnShowOptions {
    OnShowOptions {
        scene: back.scene,
        referrer_info: ReferrerInfo {
            app_id: back.referrer.to_owned(),
            extra_data: back.extra_data,
        },
        diagnosis: back.diagnosis,
    }
}
