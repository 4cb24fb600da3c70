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
