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

const BASE = (process.env.WXCARD_URL || '').replace(/\/+$/, '');
const TOKEN_LIFETIME = 7200;
const REFRESH_GRACE = 300;
// wechat-api sets expireTime = now + (expires_in - 10) s.
const CLIENT_MARGIN = 10;

test.before(() => {
  assert.ok(BASE, 'WXCARD_URL is not set: start `wxcard serve` and export its URL, or use tests/compat/run.sh');
});

async function admin(method, path, payload) {
  const res = await fetch(BASE + path, {
    method,
    headers: payload ? { 'content-type': 'application/json' } : {},
    body: payload ? JSON.stringify(payload) : undefined,
  });
  assert.equal(res.status, 200, `${method} ${path} -> HTTP ${res.status}`);
  const body = await res.json();
  assert.equal(body.errcode ?? 0, 0, `${method} ${path} -> ${JSON.stringify(body)}`);
  return body;
}

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
// `api.sentUrls`, and a URL outside the server under test fails the test.
function makeClient(appid, secret) {
  const api = new API(appid, secret);
  api.endpoint = BASE;
  api.sentUrls = [];
  const send = api.request;
  api.request = function (url, opts, callback) {
    assert.ok(url.startsWith(BASE + '/'), `wechat-api tried to reach ${url}`);
    this.sentUrls.push(new URL(url));
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
