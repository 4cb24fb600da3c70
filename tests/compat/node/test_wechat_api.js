'use strict';
// Wire-compatibility proof: the unmodified wechat-api 1.35.1 client
// (node-webot) against wxcard.
//
// The server under test is given by WXCARD_URL (for example
// http://127.0.0.1:40123); tests/compat/run.sh starts one and sets it.
// wechat-api builds every URL from `api.endpoint`, so pointing that property
// at the server is the whole redirect. (`setEndpoint()` would force https.)

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const API = require('wechat-api');

const { BASE, admin } = require('./wxcard');
const TOKEN_LIFETIME = 7200;
const REFRESH_GRACE = 300;
// wechat-api sets expireTime = now + (expires_in - 10) s.
const CLIENT_MARGIN = 10;

async function createServiceAccount() {
  const name = 'node-sa-' + crypto.randomBytes(4).toString('hex');
  const app = await admin('POST', '/admin/v1/apps', { kind: 'service_account', name });
  assert.equal(app.kind, 'service_account');
  return app;
}

function advanceClock(seconds) {
  return admin('POST', '/admin/v1/clock/advance', { seconds });
}

// A wechat-api client pointed at the server. Every URL it requests is kept in
// `api.sentUrls`, the JSON body of each POST in `api.sentBodies` as
// {path, body}, and a URL outside the server under test fails the test.
function makeClient(appid, secret) {
  const api = new API(appid, secret);
  api.endpoint = BASE;
  api.sentUrls = [];
  api.sentBodies = [];
  const send = api.request;
  api.request = function (url, opts, callback) {
    assert.ok(url.startsWith(BASE + '/'), `wechat-api tried to reach ${url}`);
    const sent = new URL(url);
    this.sentUrls.push(sent);
    if (opts && opts.data !== undefined) {
      // What urllib will put on the wire: JSON.stringify drops undefined values.
      this.sentBodies.push({ path: sent.pathname, body: JSON.parse(JSON.stringify(opts.data)) });
    }
    return send.call(this, url, opts, callback);
  };
  return api;
}

// wechat-api is callback based: call `api[name](...args, cb)` and resolve
// with the first result, or reject with the error it built.
function call(api, name, ...args) {
  return new Promise((resolve, reject) => {
    api[name](...args, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

async function callError(api, name, ...args) {
  try {
    const result = await call(api, name, ...args);
    assert.fail(`${name} succeeded (${JSON.stringify(result)}) but an error was expected`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    return err;
  }
}

function assertExpiresFromLifetime(expireTime, before, after) {
  assert.ok(Number.isFinite(expireTime), `expireTime is ${expireTime}: expires_in was missing`);
  const lifetimeMs = (TOKEN_LIFETIME - CLIENT_MARGIN) * 1000;
  assert.ok(expireTime >= before + lifetimeMs && expireTime <= after + lifetimeMs,
    `expireTime ${expireTime} is not now + ${TOKEN_LIFETIME - CLIENT_MARGIN} s`);
}

test('getLatestToken fetches an access token that the server then accepts', async () => {
  const app = await createServiceAccount();
  const api = makeClient(app.appid, app.secret);

  const before = Date.now();
  const token = await call(api, 'getLatestToken');
  const after = Date.now();

  assert.equal(typeof token.accessToken, 'string');
  assert.ok(token.accessToken.length >= 32);
  assertExpiresFromLifetime(token.expireTime, before, after);

  const tokenUrl = api.sentUrls[0];
  assert.equal(tokenUrl.pathname, '/cgi-bin/token');
  assert.equal(tokenUrl.searchParams.get('grant_type'), 'client_credential');
  assert.equal(tokenUrl.searchParams.get('appid'), app.appid);
  assert.equal(tokenUrl.searchParams.get('secret'), app.secret);

  const colors = await call(api, 'getColors');
  assert.equal(colors.errcode, 0);
  assert.ok(Array.isArray(colors.colors) && colors.colors.length > 0);
  const last = api.sentUrls.at(-1);
  assert.equal(last.pathname, '/card/getcolors');
  assert.equal(last.searchParams.get('access_token'), token.accessToken);
});

test("getTicket('wx_card') returns the card api_ticket with its lifetime", async () => {
  const app = await createServiceAccount();
  const api = makeClient(app.appid, app.secret);

  const before = Date.now();
  const ticket = await call(api, 'getTicket', 'wx_card');
  const after = Date.now();

  assert.equal(typeof ticket.ticket, 'string');
  assert.ok(ticket.ticket.length >= 32);
  // wechat-api keeps expires_in only as expireTime = now + (expires_in - 10) s.
  assertExpiresFromLifetime(ticket.expireTime, before, after);

  const ticketUrl = api.sentUrls.at(-1);
  assert.equal(ticketUrl.pathname, '/cgi-bin/ticket/getticket');
  assert.equal(ticketUrl.searchParams.get('type'), 'wx_card');

  // Within its lifetime the platform hands out the same ticket again.
  const again = await call(api, 'getTicket', 'wx_card');
  assert.equal(again.ticket, ticket.ticket);
});

test("getTicket('jsapi') returns a jsapi ticket distinct from the card ticket", async () => {
  const app = await createServiceAccount();
  const api = makeClient(app.appid, app.secret);

  const before = Date.now();
  const jsapi = await call(api, 'getTicket', 'jsapi');
  const after = Date.now();

  assert.equal(typeof jsapi.ticket, 'string');
  assert.ok(jsapi.ticket.length >= 32);
  assertExpiresFromLifetime(jsapi.expireTime, before, after);
  assert.equal(api.sentUrls.at(-1).searchParams.get('type'), 'jsapi');

  const card = await call(api, 'getTicket', 'wx_card');
  assert.notEqual(jsapi.ticket, card.ticket);
});

test('a wrong secret gives a WeChatAPIError with code 40125', async () => {
  const app = await createServiceAccount();
  const wrongSecret = '0'.repeat(32);
  assert.notEqual(wrongSecret, app.secret);
  const api = makeClient(app.appid, wrongSecret);

  const err = await callError(api, 'getLatestToken');

  assert.equal(err.name, 'WeChatAPIError');
  assert.equal(err.code, 40125);
  assert.ok(err.message);
});

test('after the platform clock passes the token lifetime, the cached token is refused with 42001', async () => {
  const app = await createServiceAccount();
  const api = makeClient(app.appid, app.secret);
  const token = await call(api, 'getLatestToken');
  assert.equal((await call(api, 'getColors')).errcode, 0);

  await advanceClock(TOKEN_LIFETIME + REFRESH_GRACE + 1);

  // wechat-api's cache uses the local clock, so it still sends the old token.
  const err = await callError(api, 'getTicket', 'wx_card');
  assert.equal(err.name, 'WeChatAPIError');
  assert.equal(err.code, 42001);
  assert.equal(api.sentUrls.at(-1).searchParams.get('access_token'), token.accessToken);

  const again = await callError(api, 'getColors');
  assert.equal(again.code, 42001);
});

// --- Card templates (cards.md): createCard, getCard, getCards, updateCard, updateCardStock, deleteCard.

function groupon() {
  return {
    card_type: 'GROUPON',
    groupon: {
      base_info: {
        logo_url: 'http://mmbiz.qpic.cn/mmbiz/logo/0',
        brand_name: '示例餐厅',
        code_type: 'CODE_TYPE_QRCODE',
        title: '双人套餐券',
        color: 'Color010',
        notice: '使用时请出示二维码',
        description: '不可与其他优惠同享',
        date_info: { type: 'DATE_TYPE_FIX_TERM', fixed_term: 30, fixed_begin_term: 0 },
        sku: { quantity: 100 },
      },
      deal_detail: '两份主食和两杯饮料',
    },
  };
}

async function cardClient() {
  const app = await createServiceAccount();
  const api = makeClient(app.appid, app.secret);
  const created = await call(api, 'createCard', groupon());
  assert.equal(created.errcode, 0);
  assert.equal(created.card_id.length, 28);
  return { api, cardId: created.card_id };
}

test('createCard then getCard returns the card with its id, status and stock', async () => {
  const { api, cardId } = await cardClient();

  const got = await call(api, 'getCard', cardId);

  assert.equal(got.card.card_type, 'GROUPON');
  const base = got.card.groupon.base_info;
  assert.equal(base.id, cardId);
  assert.equal(base.status, 'CARD_STATUS_VERIFY_OK');
  assert.equal(base.title, '双人套餐券');
  assert.deepEqual(base.sku, { quantity: 100, total_quantity: 100 });
});

test('getCards pages through the account\'s cards', async () => {
  const { api, cardId } = await cardClient();

  const page = await call(api, 'getCards', 0, 10, ['CARD_STATUS_VERIFY_OK']);

  assert.deepEqual(page.card_id_list, [cardId]);
  assert.equal(page.total_num, 1);
});

test('updateCard changes a field and reports send_check', async () => {
  const { api, cardId } = await cardClient();

  const result = await call(api, 'updateCard', cardId, 'GROUPON', { base_info: { title: '新标题' } });
  const got = await call(api, 'getCard', cardId);

  assert.equal(result.send_check, true);
  assert.equal(got.card.groupon.base_info.title, '新标题');
});

test('updateCardStock adds and removes stock, and refuses to go below zero with 40122', async () => {
  const { api, cardId } = await cardClient();

  await call(api, 'updateCardStock', cardId, 10);
  await call(api, 'updateCardStock', cardId, -4);
  const got = await call(api, 'getCard', cardId);
  const err = await callError(api, 'updateCardStock', cardId, -1000);

  assert.deepEqual(got.card.groupon.base_info.sku, { quantity: 106, total_quantity: 110 });
  assert.equal(err.name, 'WeChatAPIError');
  assert.equal(err.code, 40122);
});

test('deleteCard marks the card deleted and another delete gets 40078', async () => {
  const { api, cardId } = await cardClient();

  await call(api, 'deleteCard', cardId);
  const got = await call(api, 'getCard', cardId);
  const err = await callError(api, 'deleteCard', cardId);

  assert.equal(got.card.groupon.base_info.status, 'CARD_STATUS_DELETE');
  assert.equal(err.code, 40078);
});

test('createCardQRCode with no expiry (sent as null) gets a 365-day QR code', async () => {
  const { api, cardId } = await cardClient();

  const qr = await call(api, 'createCardQRCode', { card: { card_id: cardId } });

  assert.equal(qr.errcode, 0);
  assert.equal(qr.expire_seconds, 365 * 24 * 3600);
  assert.ok(qr.show_qrcode_url.startsWith(BASE + '/cgi-bin/showqrcode?ticket='));
});

// --- Flows A and B, merchant side (codes.md, jsapi.md): a Mini Program on the
// Service Account's open platform claims a card with a cardExt built by
// getCardExt, and the merchant decrypts, views, redeems, re-keys and
// invalidates codes with wechat-api's own functions. The Mini Program side
// (/sim/v1/addCard) and the outbox are driven with fetch.

async function adminGet(path) {
  return admin('GET', path);
}

async function linkedShop() {
  const suffix = crypto.randomBytes(4).toString('hex');
  const { id: openPlatformId } = await admin('POST', '/admin/v1/open-platforms', { name: 'node-op-' + suffix });
  const serviceAccount = await admin('POST', '/admin/v1/apps',
    { kind: 'service_account', name: 'node-sa-' + suffix, open_platform_id: openPlatformId });
  const miniProgram = await admin('POST', '/admin/v1/apps',
    { kind: 'mini_program', name: 'node-mp-' + suffix, open_platform_id: openPlatformId });
  const { user_id: userId } = await admin('POST', '/admin/v1/users', { nickname: 'node-user-' + suffix });
  const user = await adminGet(`/admin/v1/users/${userId}`);
  return {
    api: makeClient(serviceAccount.appid, serviceAccount.secret),
    appid: serviceAccount.appid,
    miniProgramAppid: miniProgram.appid,
    userId,
    openid: user.openids[serviceAccount.appid],
    miniProgramOpenid: user.openids[miniProgram.appid],
    unionid: user.unionids[openPlatformId],
  };
}

function generalCoupon(baseInfo = {}) {
  return {
    card_type: 'GENERAL_COUPON',
    general_coupon: {
      base_info: {
        logo_url: 'http://mmbiz.qpic.cn/mmbiz/logo/0',
        brand_name: '示例咖啡',
        code_type: 'CODE_TYPE_QRCODE',
        title: '满50减10元',
        color: 'Color020',
        notice: '结账时出示二维码',
        description: '每单限用一张',
        date_info: { type: 'DATE_TYPE_FIX_TERM', fixed_term: 30, fixed_begin_term: 0 },
        sku: { quantity: 100 },
        get_limit: 10,
        ...baseInfo,
      },
      default_detail: '消费满50元立减10元',
    },
  };
}

async function createCoupon(shop, baseInfo) {
  const created = await call(shop.api, 'createCard', generalCoupon(baseInfo));
  assert.equal(created.errcode, 0);
  return created.card_id;
}

// The Mini Program's wx.addCard, through the simulator. A failed claim is
// still HTTP 200, so errcode is not checked here.
async function addCard(shop, cardId, cardExt) {
  const res = await fetch(BASE + '/sim/v1/addCard', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user_id: shop.userId, appid: shop.miniProgramAppid, cardList: [{ cardId, cardExt }] }),
  });
  assert.equal(res.status, 200);
  return res.json();
}

// Build the cardExt with getCardExt, claim the card, return the encrypted code.
async function claim(shop, cardId, code) {
  const ext = await call(shop.api, 'getCardExt', code === undefined ? { card_id: cardId } : { card_id: cardId, code });
  const result = await addCard(shop, cardId, JSON.stringify(ext));
  assert.equal(result.errMsg, 'addCard:ok', JSON.stringify(result));
  assert.equal(result.cardList.length, 1);
  assert.equal(result.cardList[0].isSuccess, true);
  return result.cardList[0].code;
}

async function claimCode(shop, cardId, code) {
  const decrypted = await call(shop.api, 'decryptCode', await claim(shop, cardId, code));
  return decrypted.code;
}

function lastBody(api, path) {
  return api.sentBodies.filter((sent) => sent.path === path).at(-1).body;
}

async function events(appid, event) {
  return (await adminGet(`/admin/v1/events?appid=${appid}&event=${event}`)).events;
}

test('getCardExt builds a cardExt without nonce_str that wx.addCard accepts, and decryptCode returns the claimed code', async () => {
  const shop = await linkedShop();
  const cardId = await createCoupon(shop);

  const ext = await call(shop.api, 'getCardExt', { card_id: cardId });

  // wechat-api 1.35.1 signs sorted [api_ticket, card_id, timestamp, code, openid, balance]:
  // no nonce_str, and code/openid are sent as empty strings.
  assert.deepEqual(Object.keys(ext).sort(), ['code', 'openid', 'signature', 'timestamp']);
  assert.equal(ext.code, '');
  assert.equal(ext.openid, '');
  assert.match(ext.timestamp, /^[0-9]{10}$/);
  const { ticket } = await call(shop.api, 'getTicket', 'wx_card');
  const expected = crypto.createHash('sha1')
    .update([ticket, cardId, ext.timestamp, '', '', ''].sort().join('')).digest('hex');
  assert.equal(ext.signature, expected);

  const cardExt = JSON.stringify(ext);
  const result = await addCard(shop, cardId, cardExt);

  assert.equal(result.errMsg, 'addCard:ok', JSON.stringify(result));
  const [item] = result.cardList;
  assert.equal(item.cardId, cardId);
  assert.equal(item.cardExt, cardExt);
  assert.equal(item.isSuccess, true);

  const decrypted = await call(shop.api, 'decryptCode', item.code);

  assert.match(decrypted.code, /^[0-9]{12}$/);
  assert.notEqual(item.code, decrypted.code);
  assert.deepEqual(lastBody(shop.api, '/card/code/decrypt'), { encrypt_code: item.code });
  const [event, ...more] = await events(shop.appid, 'user_get_card');
  assert.equal(more.length, 0);
  assert.equal(event.payload.card_id, cardId);
  assert.equal(event.payload.code, decrypted.code);
  assert.equal(event.payload.openid, shop.openid);
  assert.notEqual(event.payload.openid, shop.miniProgramOpenid);
  assert.equal(event.payload.union_id, shop.unionid);
});

test('a cardExt from getCardExt claims once, and the same cardExt again is refused with 40080', async () => {
  const shop = await linkedShop();
  const cardId = await createCoupon(shop);
  const cardExt = JSON.stringify(await call(shop.api, 'getCardExt', { card_id: cardId }));

  const first = await addCard(shop, cardId, cardExt);
  const replay = await addCard(shop, cardId, cardExt);

  assert.equal(first.errMsg, 'addCard:ok');
  assert.ok(replay.errMsg.startsWith('addCard:fail'), replay.errMsg);
  assert.equal(replay.errcode, 40080);
  assert.ok(replay.diagnosis.summary);
  assert.equal((await events(shop.appid, 'user_get_card')).length, 1);
});

test('getCode shows a claimed code, consumeCode redeems it once, and a second consumeCode fails with 40099', async () => {
  const shop = await linkedShop();
  const cardId = await createCoupon(shop);
  const code = await claimCode(shop, cardId);

  const info = await call(shop.api, 'getCode', code);
  const consumed = await call(shop.api, 'consumeCode', code, cardId);
  const again = await callError(shop.api, 'consumeCode', code, cardId);
  const after = await callError(shop.api, 'getCode', code, cardId);

  assert.deepEqual(lastBody(shop.api, '/card/code/consume'), { code, card_id: cardId });
  assert.equal(info.card.card_id, cardId);
  assert.equal(info.openid, shop.openid);
  assert.equal(info.can_consume, true);
  assert.equal(info.user_card_status, 'NORMAL');
  assert.equal(info.card.end_time - info.card.begin_time, 30 * 24 * 3600 - 1);
  assert.equal(consumed.card.card_id, cardId);
  assert.equal(consumed.openid, shop.openid);
  assert.equal(again.name, 'WeChatAPIError');
  assert.equal(again.code, 40099);
  // getCode sends no check_consume, so the platform checks it and refuses.
  assert.equal(after.code, 40099);
  const [event] = await events(shop.appid, 'user_consume_card');
  assert.equal(event.payload.code, code);
  assert.equal(event.payload.openid, shop.openid);
  assert.equal(event.payload.consume_source, 'FROM_API');
});

test('updateCode (which sends newcode) re-keys a custom code, and the new code is redeemable', async () => {
  const shop = await linkedShop();
  const cardId = await createCoupon(shop, { use_custom_code: true });
  const oldCode = 'OLD' + crypto.randomBytes(6).toString('hex').toUpperCase();
  const newCode = 'NEW' + crypto.randomBytes(6).toString('hex').toUpperCase();
  assert.equal(await claimCode(shop, cardId, oldCode), oldCode);

  const result = await call(shop.api, 'updateCode', oldCode, cardId, newCode);

  assert.equal(result.errcode, 0);
  assert.deepEqual(lastBody(shop.api, '/card/code/update'), { code: oldCode, card_id: cardId, newcode: newCode });
  const info = await call(shop.api, 'getCode', newCode, cardId);
  assert.equal(info.openid, shop.openid);
  assert.equal(info.user_card_status, 'NORMAL');
  const gone = await callError(shop.api, 'getCode', oldCode, cardId);
  assert.equal(gone.code, 40056);
  const consumed = await call(shop.api, 'consumeCode', newCode, cardId);
  assert.equal(consumed.openid, shop.openid);
});

test('unavailableCode makes a claimed code unusable: getCode and consumeCode then fail with 40127', async () => {
  const shop = await linkedShop();
  const cardId = await createCoupon(shop);
  const otherCardId = await createCoupon(shop);
  const invalidated = await claimCode(shop, cardId);
  // A second cardExt for the same card within the same second would be the
  // same string (no nonce_str) and be refused as a replay, so the user's other
  // code comes from another card.
  const untouched = await claimCode(shop, otherCardId);

  const result = await call(shop.api, 'unavailableCode', invalidated);

  assert.equal(result.errcode, 0);
  assert.deepEqual(lastBody(shop.api, '/card/code/unavailable'), { code: invalidated });
  const viewed = await callError(shop.api, 'getCode', invalidated);
  assert.equal(viewed.code, 40127);
  const consumed = await callError(shop.api, 'consumeCode', invalidated, cardId);
  assert.equal(consumed.code, 40127);
  assert.equal((await call(shop.api, 'getCode', untouched)).user_card_status, 'NORMAL');
});

test('importCustomizedCodes, getDepositCodesCount and checkCustomizedCodes manage a deposit card whose codes addCard hands out', async () => {
  const shop = await linkedShop();
  const cardId = await createCoupon(shop,
    { use_custom_code: true, get_custom_code_mode: 'GET_CUSTOM_CODE_MODE_DEPOSIT', sku: { quantity: 0 } });
  const prefix = 'DEP' + crypto.randomBytes(4).toString('hex').toUpperCase();
  const codes = [prefix + '01', prefix + '02'];

  const deposited = await call(shop.api, 'importCustomizedCodes', cardId, codes);
  const again = await call(shop.api, 'importCustomizedCodes', cardId, [prefix + '02']);
  const count = await call(shop.api, 'getDepositCodesCount', cardId);
  const checked = await call(shop.api, 'checkCustomizedCodes', cardId, [prefix + '01', prefix + '99']);
  const tooMuch = await callError(shop.api, 'updateCardStock', cardId, 3);
  await call(shop.api, 'updateCardStock', cardId, 2);
  const code = await claimCode(shop, cardId);

  assert.deepEqual(deposited.succ_code, codes);
  assert.deepEqual(again.succ_code, []);
  assert.deepEqual(again.duplicate_code, [prefix + '02']);
  assert.equal(count.count, 2);
  assert.deepEqual(checked.exist_code, [prefix + '01']);
  assert.deepEqual(checked.not_exist_code, [prefix + '99']);
  assert.equal(tooMuch.code, 40136);
  assert.ok(codes.includes(code), `${code} is not one of the deposited codes`);
  assert.equal((await call(shop.api, 'getCode', code, cardId)).openid, shop.openid);
});

test('updateMeetingTicket and updateMovieTicket store a ticket\'s details on the code', async () => {
  const shop = await linkedShop();
  const meeting = generalCoupon();
  const movie = generalCoupon();
  const created = await Promise.all([
    call(shop.api, 'createCard', { card_type: 'MEETING_TICKET', meeting_ticket: { base_info: meeting.general_coupon.base_info, meeting_detail: '年会' } }),
    call(shop.api, 'createCard', { card_type: 'MOVIE_TICKET', movie_ticket: { base_info: movie.general_coupon.base_info, detail: '电影简介' } }),
  ]);
  const [meetingCode, movieCode] = [await claimCode(shop, created[0].card_id), await claimCode(shop, created[1].card_id)];

  await call(shop.api, 'updateMeetingTicket', { code: meetingCode, zone: 'C区', entrance: '东门', seat_number: '2排15号' });
  const missingClass = await callError(shop.api, 'updateMovieTicket', { code: movieCode, show_time: 1900000000, screening_room: '5号厅', seat_number: ['5排14号'] });
  const wrongType = await callError(shop.api, 'updateMovieTicket', { code: meetingCode, ticket_class: '4D', show_time: 1900000000, screening_room: '5号厅', seat_number: ['5排14号'] });
  const held = (await adminGet(`/sim/v1/users/${shop.userId}/cards`)).cards;

  assert.deepEqual(lastBody(shop.api, '/card/meetingticket/updateuser'), { code: meetingCode, zone: 'C区', entrance: '东门', seat_number: '2排15号' });
  assert.equal(missingClass.code, 41014);
  assert.equal(wrongType.code, 45030);
  const meetingCard = held.find((card) => card.code === meetingCode);
  assert.equal(meetingCard.ticket.entrance, '东门');
  assert.equal(held.find((card) => card.code === movieCode).ticket, null);
});

// --- Member cards and the card-opening component (membercard.md §2,
// card-opening-component.md): the merchant creates a MEMBER_CARD, sets its form
// with activateMembercardUserForm and gets the component's link; a Mini Program
// on the same open platform opens the component with the link's values
// (/sim/v1/navigateToMiniProgram) and the user submits it
// (/sim/v1/component/{session}/submit). The merchant then activates, reads and
// updates the member with wechat-api's own functions.
//
// wechat-api 1.35.1 has nothing for /card/membercard/activate/geturl or
// /card/membercard/activatetempinfo/get. API.patch is its own way to add an
// endpoint it lacks (clients.md §2.1): the new method gets the token as every
// other one does and POSTs its argument as JSON to the URL with
// ?access_token=, through the same api.request the client records.

const COMPONENT_APPID = 'wxeb490c6f9b154ef9';
const RETURN_SCENE = 1038;
const AFTER_SUBMIT_URL = 'https://member.example.com/wx/activated';
const MOBILE = 'USER_FORM_INFO_FLAG_MOBILE';
const NAME = 'USER_FORM_INFO_FLAG_NAME';
const PROFILE = { mobile: '13900139000', name: '李雷' };

API.patch('getActivateMembercardUrl', BASE + '/card/membercard/activate/geturl');
API.patch('getActivateTempInfo', BASE + '/card/membercard/activatetempinfo/get');

function memberCard(fields = {}) {
  const card = {
    card_type: 'MEMBER_CARD',
    member_card: {
      base_info: {
        logo_url: 'http://mmbiz.qpic.cn/mmbiz/logo/0',
        brand_name: '示例茶饮',
        code_type: 'CODE_TYPE_QRCODE',
        title: '示例茶饮会员卡',
        color: 'Color030',
        notice: '结账时出示会员卡',
        description: '会员权益以门店公告为准',
        date_info: { type: 'DATE_TYPE_PERMANENT' },
        sku: { quantity: 1000 },
        get_limit: 1,
      },
      prerogative: '会员消费9折',
      supply_bonus: true,
      supply_balance: true,
      wx_activate: true,
      wx_activate_after_submit: true,
      wx_activate_after_submit_url: AFTER_SUBMIT_URL,
      ...fields,
    },
  };
  for (const [key, value] of Object.entries(card.member_card)) {
    if (value === undefined) delete card.member_card[key];
  }
  return card;
}

const USER_FORM = {
  required_form: {
    can_modify: false,
    common_field_id_list: [MOBILE, NAME],
    rich_field_list: [{ type: 'FORM_FIELD_SELECT', name: '门店', values: ['天河店', '海珠店'] }],
  },
  optional_form: {
    can_modify: true,
    custom_field_list: ['喜欢的茶'],
  },
};

// What the user fills in; mobile and name keep the values pre-filled from the profile.
const SUBMISSION = {
  common_field_list: [],
  custom_field_list: [
    { name: '门店', value: '海珠店', value_list: [] },
    { name: '喜欢的茶', value: '乌龙', value_list: [] },
  ],
};

// A Service Account and a Mini Program on one open platform, and a user whose
// profile pre-fills the component's form.
async function memberShop() {
  const suffix = crypto.randomBytes(4).toString('hex');
  const { id: openPlatformId } = await admin('POST', '/admin/v1/open-platforms', { name: 'node-op-' + suffix });
  const serviceAccount = await admin('POST', '/admin/v1/apps',
    { kind: 'service_account', name: 'node-sa-' + suffix, open_platform_id: openPlatformId });
  const miniProgram = await admin('POST', '/admin/v1/apps',
    { kind: 'mini_program', name: 'node-mp-' + suffix, open_platform_id: openPlatformId });
  const nickname = 'node-member-' + suffix;
  const { user_id: userId } = await admin('POST', '/admin/v1/users', { nickname, profile: PROFILE });
  const user = await adminGet(`/admin/v1/users/${userId}`);
  return {
    api: makeClient(serviceAccount.appid, serviceAccount.secret),
    appid: serviceAccount.appid,
    miniProgramAppid: miniProgram.appid,
    userId,
    nickname,
    openid: user.openids[serviceAccount.appid],
  };
}

// createCard, then activateMembercardUserForm; returns the card_id.
async function createMemberCard(shop, fields) {
  const created = await call(shop.api, 'createCard', memberCard(fields));
  assert.equal(created.errcode, 0);
  const form = await call(shop.api, 'activateMembercardUserForm', { card_id: created.card_id, ...USER_FORM });
  assert.equal(form.errcode, 0);
  return created.card_id;
}

// membercard.md §2.3: strip the fragment, split the query on '&', skip empty
// segments, split each on the first '=', percent-decode the value.
function parseComponentUrl(url) {
  const query = url.split('#')[0].split('?').slice(1).join('?');
  const params = {};
  for (const segment of query.split('&')) {
    if (!segment) continue;
    const at = segment.indexOf('=');
    const [name, value] = at < 0 ? [segment, ''] : [segment.slice(0, at), segment.slice(at + 1)];
    params[name] = decodeURIComponent(value);
  }
  return params;
}

// getActivateMembercardUrl, then wx.navigateToMiniProgram with the decoded
// values; returns the component session.
async function openComponent(shop, cardId, outerStr = 'node_store') {
  const { url } = await call(shop.api, 'getActivateMembercardUrl', { card_id: cardId, outer_str: outerStr });
  const params = parseComponentUrl(url);
  const extraData = { encrypt_card_id: params.encrypt_card_id, outer_str: params.outer_str, biz: params.biz };
  const result = await admin('POST', '/sim/v1/navigateToMiniProgram',
    { user_id: shop.userId, appid: shop.miniProgramAppid, appId: COMPONENT_APPID, extraData });
  assert.equal(result.errMsg, 'navigateToMiniProgram:ok', JSON.stringify(result));
  return result.session;
}

async function openAndSubmit(shop, cardId, outerStr) {
  const session = await openComponent(shop, cardId, outerStr);
  return admin('POST', `/sim/v1/component/${session}/submit`, SUBMISSION);
}

// A jump-type card the user has submitted: its card_id and the extraData the Mini Program got.
async function submittedMember(shop) {
  const cardId = await createMemberCard(shop);
  const options = await openAndSubmit(shop, cardId);
  return { cardId, extra: options.referrerInfo.extraData };
}

test('getActivateMembercardUrl (API.patch) gives a link whose decoded query opens the component with the form pre-filled', async () => {
  const shop = await memberShop();
  const cardId = await createMemberCard(shop);

  const { url } = await call(shop.api, 'getActivateMembercardUrl', { card_id: cardId, outer_str: 'node_store' });
  const params = parseComponentUrl(url);
  const session = await openComponent(shop, cardId);
  const view = await admin('GET', `/sim/v1/component/${session}`);

  assert.deepEqual(lastBody(shop.api, '/card/membercard/activateuserform/set'), { card_id: cardId, ...USER_FORM });
  assert.deepEqual(lastBody(shop.api, '/card/membercard/activate/geturl'), { card_id: cardId, outer_str: 'node_store' });
  assert.ok(url.endsWith('#wechat_redirect'), url);
  assert.equal(params.action, 'preshow');
  assert.equal(params.outer_str, 'node_store');
  assert.ok(params.encrypt_card_id);
  assert.match(Buffer.from(params.biz, 'base64').toString('ascii'), /^[0-9]+$/);
  assert.equal(view.status, 'open');
  assert.equal(view.variant, 'jump');
  assert.equal(view.card.card_id, cardId);
  const required = Object.fromEntries(view.required_form.fields.map((field) => [field.name, field]));
  assert.deepEqual(Object.keys(required).sort(), [MOBILE, NAME, '门店'].sort());
  assert.equal(required[MOBILE].value, PROFILE.mobile);
  assert.equal(required[NAME].value, PROFILE.name);
  assert.equal(required['门店'].kind, 'rich');
  assert.deepEqual(required['门店'].values, ['天河店', '海珠店']);
  assert.deepEqual(view.optional_form.fields.map((field) => [field.kind, field.name]), [['custom', '喜欢的茶']]);
});

test('a jump-type submission returns the real code and an activate_ticket that getActivateTempInfo (API.patch) reads', async () => {
  const shop = await memberShop();
  const cardId = await createMemberCard(shop);

  const options = await openAndSubmit(shop, cardId, 'node_store');
  const extra = options.referrerInfo.extraData;
  const info = await call(shop.api, 'getActivateTempInfo', { activate_ticket: extra.activate_ticket });

  assert.equal(options.scene, RETURN_SCENE);
  assert.equal(options.referrerInfo.appId, COMPONENT_APPID);
  assert.equal(extra.card_id, cardId);
  assert.equal(extra.errCode, 0);
  assert.ok(extra.wx_activate_after_submit_url.startsWith(AFTER_SUBMIT_URL + '?'), extra.wx_activate_after_submit_url);
  // The real code: getCode takes it as it is.
  const code = await call(shop.api, 'getCode', extra.code, cardId);
  assert.equal(code.openid, shop.openid);
  assert.equal(code.user_card_status, 'NORMAL');
  assert.deepEqual(lastBody(shop.api, '/card/membercard/activatetempinfo/get'), { activate_ticket: extra.activate_ticket });
  const common = Object.fromEntries(info.info.common_field_list.map((field) => [field.name, field.value]));
  assert.equal(common[MOBILE], PROFILE.mobile);
  assert.equal(common[NAME], PROFILE.name);
  const custom = Object.fromEntries(info.info.custom_field_list.map((field) => [field.name, field.value]));
  assert.equal(custom['门店'], '海珠店');
  assert.equal(custom['喜欢的茶'], '乌龙');
  const [event, ...more] = await events(shop.appid, 'user_get_card');
  assert.equal(more.length, 0);
  assert.equal(event.payload.code, extra.code);
  assert.equal(event.payload.outer_str, 'node_store');
});

test('activateMembercard makes the user a member, and getMembercard and getMemberCardUserInfo show it', async () => {
  const shop = await memberShop();
  const { cardId, extra } = await submittedMember(shop);
  const number = 'NODE' + crypto.randomBytes(4).toString('hex').toUpperCase();
  const activation = { membership_number: number, code: extra.code, card_id: cardId, init_bonus: 50, init_balance: 1000 };

  const before = await call(shop.api, 'getMembercard', { card_id: cardId, code: extra.code });
  const activated = await call(shop.api, 'activateMembercard', activation);
  const after = await call(shop.api, 'getMembercard', { card_id: cardId, code: extra.code });
  const again = await call(shop.api, 'getMemberCardUserInfo', { card_id: cardId, code: extra.code });

  assert.equal(before.has_active, false);
  assert.equal(activated.errcode, 0);
  assert.deepEqual(lastBody(shop.api, '/card/membercard/activate'), activation);
  assert.deepEqual(lastBody(shop.api, '/card/membercard/userinfo/get'), { card_id: cardId, code: extra.code });
  assert.equal(after.has_active, true);
  assert.equal(after.membership_number, number);
  assert.equal(after.bonus, 50);
  assert.equal(after.balance, 1000);
  assert.equal(after.openid, shop.openid);
  assert.equal(after.nickname, shop.nickname);
  assert.equal(after.user_card_status, 'NORMAL');
  assert.deepEqual(again, after);
});

test('updateMembercard and updateMemberCardUserInfo change bonus and balance and report result_bonus and result_balance', async () => {
  const shop = await memberShop();
  const { cardId, extra } = await submittedMember(shop);
  await call(shop.api, 'activateMembercard', { membership_number: 'N0001', code: extra.code, card_id: cardId, init_bonus: 50, init_balance: 1000 });

  const spent = await call(shop.api, 'updateMembercard',
    { card_id: cardId, code: extra.code, add_bonus: 20, record_bonus: '消费获得积分', add_balance: -300, record_balance: '购买一杯' });
  const settled = await call(shop.api, 'updateMemberCardUserInfo',
    { card_id: cardId, code: extra.code, bonus: 500, add_bonus: 430, balance: 0, add_balance: -700 });
  const info = await call(shop.api, 'getMemberCardUserInfo', { card_id: cardId, code: extra.code });

  assert.deepEqual([spent.result_bonus, spent.result_balance], [70, 700]);
  assert.equal(spent.openid, shop.openid);
  assert.deepEqual([settled.result_bonus, settled.result_balance], [500, 0]);
  assert.deepEqual(lastBody(shop.api, '/card/membercard/updateuser'),
    { card_id: cardId, code: extra.code, bonus: 500, add_bonus: 430, balance: 0, add_balance: -700 });
  assert.deepEqual([info.bonus, info.balance], [500, 0]);
});

test('a non-jump card is activated by the submission, and getMemberCardUserInfo shows what the user submitted', async () => {
  const shop = await memberShop();
  const cardId = await createMemberCard(shop, { wx_activate_after_submit: false, wx_activate_after_submit_url: undefined });
  const session = await openComponent(shop, cardId);
  assert.equal((await admin('GET', `/sim/v1/component/${session}`)).variant, 'non_jump');

  const options = await admin('POST', `/sim/v1/component/${session}/submit`, SUBMISSION);
  const [held, ...more] = (await adminGet(`/sim/v1/users/${shop.userId}/cards`)).cards.filter((card) => card.card_id === cardId);
  const info = await call(shop.api, 'getMemberCardUserInfo', { card_id: cardId, code: held.code });

  assert.equal(options.scene, RETURN_SCENE);
  assert.equal(options.referrerInfo.appId, COMPONENT_APPID);
  assert.equal(options.referrerInfo.extraData, undefined);
  assert.equal(more.length, 0);
  assert.equal(info.has_active, true);
  assert.equal(info.openid, shop.openid);
  const common = Object.fromEntries(info.user_info.common_field_list.map((field) => [field.name, field.value]));
  assert.deepEqual(common, { [MOBILE]: PROFILE.mobile, [NAME]: PROFILE.name });
  const custom = Object.fromEntries(info.user_info.custom_field_list.map((field) => [field.name, field.value]));
  assert.deepEqual(custom, { '门店': '海珠店', '喜欢的茶': '乌龙' });
});

test('activateMembercard on a member fails with 73214, and getActivateTempInfo with an unknown ticket fails with 72011', async () => {
  const shop = await memberShop();
  const { cardId, extra } = await submittedMember(shop);
  await call(shop.api, 'activateMembercard', { membership_number: 'N0001', code: extra.code, card_id: cardId });

  const twice = await callError(shop.api, 'activateMembercard', { membership_number: 'N0002', code: extra.code, card_id: cardId });
  const unknown = await callError(shop.api, 'getActivateTempInfo', { activate_ticket: 'bm90LWEtdGlja2V0' });

  assert.equal(twice.name, 'WeChatAPIError');
  assert.equal(twice.code, 73214);
  assert.equal(unknown.name, 'WeChatAPIError');
  assert.equal(unknown.code, 72011);
  assert.equal((await call(shop.api, 'getMembercard', { card_id: cardId, code: extra.code })).membership_number, 'N0001');
});
