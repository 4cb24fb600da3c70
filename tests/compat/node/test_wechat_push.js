'use strict';
// Wire-compatibility proof for event pushes: wxcard pushes card events to a
// developer server that is the unmodified `wechat` 2.1.0 middleware
// (node-webot), and the middleware verifies, decrypts and parses them.
//
// The server under test is given by WXCARD_URL (tests/compat/run.sh starts
// one and sets it). Each test starts its own developer server on 127.0.0.1
// (a bare http.createServer that sets `req.query`, as the middleware reads it
// from connect/express), creates its own Service Account, configures its push
// URL with `PUT /admin/v1/apps/{appid}/push` (the middleware answers the
// handshake itself), makes something happen and waits, by bounded polling,
// until wxcard reports the event delivered.
//
// Modes: `plain` gives the middleware a token string (plain mode only);
// `safe` and `compatible` give it {token, appid, encodingAESKey}, and it takes
// the encrypted path because the query has encrypt_type and msg_signature.
// In that path the middleware checks neither the plain `signature` nor the
// appid inside the ciphertext, so the tests check both with the middleware's
// own `wechat.checkSignature` and with `wechat-crypto` (the middleware's
// decryption library).

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const http = require('node:http');
const { once } = require('node:events');
const url = require('node:url');
const wechat = require('wechat');
const WXBizMsgCrypt = require('wechat-crypto');

const { BASE, request, admin } = require('./wxcard');
// How long a test waits for wxcard's worker (which runs every 100 ms) to deliver.
const DELIVERY_TIMEOUT_MS = 10000;
const POLL_INTERVAL_MS = 50;
// The delay wxcard waits, in platform seconds, before retrying a failed push.
const RETRY_DELAY = 5;

// --- wxcard: admin, simulator and merchant API (./wxcard.js) -----------------

function suffix() {
  return crypto.randomBytes(4).toString('hex');
}

// A Service Account and a Mini Program on one open platform (so the Mini
// Program can hand out the account's cards), and a user.
async function linkedShop() {
  const tag = suffix();
  const { id: openPlatformId } = await admin('POST', '/admin/v1/open-platforms', { name: 'push-op-' + tag });
  const account = await admin('POST', '/admin/v1/apps',
    { kind: 'service_account', name: 'push-sa-' + tag, open_platform_id: openPlatformId });
  const miniProgram = await admin('POST', '/admin/v1/apps',
    { kind: 'mini_program', name: 'push-mp-' + tag, open_platform_id: openPlatformId });
  const { user_id: userId } = await admin('POST', '/admin/v1/users', { nickname: 'push-user-' + tag });
  const user = await admin('GET', `/admin/v1/users/${userId}`);
  assert.match(account.original_id, /^gh_/);
  return {
    account,
    miniProgramAppid: miniProgram.appid,
    userId,
    openid: user.openids[account.appid],
    unionid: user.unionids[openPlatformId],
  };
}

async function accessToken(account) {
  const query = new URLSearchParams({ grant_type: 'client_credential', appid: account.appid, secret: account.secret });
  const token = await admin('GET', `/cgi-bin/token?${query}`);
  assert.equal(typeof token.access_token, 'string');
  return token.access_token;
}

async function createCoupon(account) {
  const token = await accessToken(account);
  const created = await admin('POST', `/card/create?access_token=${token}`, {
    card: {
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
        },
        default_detail: '消费满50元立减10元',
      },
    },
  });
  assert.equal(created.card_id.length, 28);
  return created.card_id;
}

// Claim the card in the Mini Program (wx.addCard through the simulator) with a
// cardExt signed as the official rule says: SHA-1 over the sorted
// [api_ticket, timestamp, card_id, code, openid, nonce_str], empty values
// adding nothing; outer_str is not signed. Returns the decrypted code.
async function claim(shop, cardId, outerStr) {
  const token = await accessToken(shop.account);
  const { ticket } = await admin('GET', `/cgi-bin/ticket/getticket?access_token=${token}&type=wx_card`);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonceStr = crypto.randomBytes(8).toString('hex');
  const signature = crypto.createHash('sha1')
    .update([ticket, timestamp, cardId, nonceStr].sort().join('')).digest('hex');
  const cardExt = JSON.stringify({ timestamp, nonce_str: nonceStr, signature, outer_str: outerStr });
  const result = await admin('POST', '/sim/v1/addCard',
    { user_id: shop.userId, appid: shop.miniProgramAppid, cardList: [{ cardId, cardExt }] });
  assert.equal(result.errMsg, 'addCard:ok', JSON.stringify(result));
  const [item] = result.cardList;
  assert.equal(item.isSuccess, true);
  const { code } = await admin('POST', `/card/code/decrypt?access_token=${token}`, { encrypt_code: item.code });
  assert.match(code, /^[0-9]{12}$/);
  return code;
}

// --- The developer server: the wechat middleware on 127.0.0.1 ------------------

// 43 letters and digits. The last one is always a character with non-zero
// trailing bits ('G'), so `EncodingAESKey + '='` is not canonical base64, as
// with most keys from WeChat's console (crypto.md A.4).
function encodingAESKey() {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = crypto.randomBytes(42);
  return Array.from(bytes, (byte) => alphabet[byte % alphabet.length]).join('') + 'G';
}

function pushSettings(mode) {
  return {
    mode,
    token: 'node' + crypto.randomBytes(8).toString('hex'),
    encoding_aes_key: mode === 'plain' ? undefined : encodingAESKey(),
  };
}

// Start the middleware. `settings` is what the account is configured with;
// in plain mode the middleware gets the token string, otherwise the aes
// config. `answer(req, res)` answers each parsed message (default: the
// middleware's empty reply).
//
// `requests` records every request with the answer the middleware sent and
// the raw body as it arrived; `messages` every message the handler got
// (`req.weixin`), with its query.
async function startDeveloperServer(settings, appid, answer = (req, res) => res.reply('')) {
  const config = settings.mode === 'plain'
    ? settings.token
    : { token: settings.token, appid, encodingAESKey: settings.encoding_aes_key };
  const requests = [];
  const messages = [];
  const middleware = wechat(config, (req, res) => {
    messages.push({ query: { ...req.query }, message: req.weixin, xml: req.weixin_xml });
    answer(req, res);
  });
  const server = http.createServer((req, res) => {
    req.query = url.parse(req.url, true).query;
    const entry = { method: req.method, query: { ...req.query }, body: '', status: null, answer: null };
    requests.push(entry);
    // A second listener sees the same chunks the middleware reads itself.
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => { entry.body = Buffer.concat(chunks).toString('utf-8'); });
    const end = res.end;
    res.end = function (chunk, ...rest) {
      entry.status = res.statusCode;
      entry.answer = chunk === undefined || chunk === null ? '' : String(chunk);
      return end.call(this, chunk, ...rest);
    };
    middleware(req, res, (err) => {
      entry.error = err;
      res.writeHead(500);
      res.end(String(err));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/wechat`,
    requests,
    messages,
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

// Configure the account's push; the middleware must answer the handshake.
async function configurePush(appid, devServer, settings) {
  const { status, body } = await request('PUT', `/admin/v1/apps/${appid}/push`, { url: devServer.url, ...settings });
  assert.equal(status, 200, `PUT push -> HTTP ${status} ${JSON.stringify(body)}`);
  assert.equal(body.ok, true, JSON.stringify(body));
  assert.equal(body.errcode, 0);
  const [handshake, ...others] = devServer.requests;
  assert.equal(others.length, 0, 'only the handshake reached the developer server');
  assert.equal(handshake.method, 'GET');
  assert.ok(/^[0-9]+$/.test(handshake.query.echostr), `echostr ${handshake.query.echostr}`);
  assert.equal(handshake.status, 200);
  assert.equal(handshake.answer, handshake.query.echostr);
  assert.ok(wechat.checkSignature(handshake.query, settings.token));
  return body;
}

// --- Waiting -------------------------------------------------------------------

async function waitFor(what, probe) {
  const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) {
      assert.fail(`waited ${DELIVERY_TIMEOUT_MS} ms for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

async function listEvents(appid, event) {
  return (await admin('GET', `/admin/v1/events?appid=${appid}&event=${event}`)).events;
}

async function eventDetail(id) {
  return admin('GET', `/admin/v1/events/${id}`);
}

// Wait until wxcard's outbox holds exactly one `event` for the account with
// the given status, and return its details (with `deliveries`).
async function waitForEventStatus(appid, event, status) {
  let last = [];
  try {
    const [found] = await waitFor(`${event} for ${appid} to be ${status}`, async () => {
      last = await listEvents(appid, event);
      return last.length === 1 && last[0].status === status ? last : null;
    });
    return eventDetail(found.id);
  } catch (err) {
    if (last.length === 1) {
      err.message += `; the event is ${JSON.stringify(await eventDetail(last[0].id))}`;
    } else {
      err.message += `; the outbox holds ${JSON.stringify(last)}`;
    }
    throw err;
  }
}

function messageOf(devServer, event) {
  return waitFor(`the middleware to receive ${event}`,
    () => devServer.messages.find((received) => received.message.Event === event));
}

// --- What every push must look like ----------------------------------------------

// The query and raw body of a push the middleware accepted, for each mode.
function assertPushEnvelope(devServer, received, settings, appid, originalId) {
  const { query } = received;
  const posted = devServer.requests.filter((entry) => entry.method === 'POST');
  assert.equal(posted.length, 1, 'one POST reached the developer server');
  const [post] = posted;
  assert.equal(post.status, 200);
  assert.equal(post.answer, '');
  assert.match(query.timestamp, /^[0-9]{10}$/);
  assert.match(query.nonce, /^[0-9]+$/);
  // The plain URL signature, in every mode (the middleware skips it in aes mode).
  assert.ok(wechat.checkSignature(query, settings.token), `signature ${query.signature} does not verify`);

  if (settings.mode === 'plain') {
    assert.equal(query.encrypt_type, undefined);
    assert.equal(query.msg_signature, undefined);
    assert.equal(received.xml, post.body, 'the middleware parsed the body that was posted');
    return;
  }

  assert.equal(query.encrypt_type, 'aes');
  const cryptor = new WXBizMsgCrypt(settings.token, settings.encoding_aes_key, appid);
  const [, encrypt] = post.body.match(/<Encrypt><!\[CDATA\[([A-Za-z0-9+/=]+)\]\]><\/Encrypt>/) || [];
  assert.ok(encrypt, `no <Encrypt> in ${post.body}`);
  assert.equal(query.msg_signature, cryptor.getSignature(query.timestamp, query.nonce, encrypt));
  // The middleware does not check the appid at the end of the plaintext; check it here.
  const decrypted = cryptor.decrypt(encrypt);
  assert.equal(decrypted.id, appid);
  assert.equal(decrypted.message, received.xml, 'the middleware parsed the decrypted message');

  const elements = [...post.body.matchAll(/<([A-Za-z]+)>/g)].map(([, name]) => name);
  if (settings.mode === 'safe') {
    assert.deepEqual(elements, ['xml', 'ToUserName', 'Encrypt']);
    assert.ok(post.body.includes(`<ToUserName><![CDATA[${originalId}]]></ToUserName>`), post.body);
  } else {
    // Compatible mode: the plain elements of the message and <Encrypt>.
    for (const name of Object.keys(received.message)) {
      assert.ok(elements.includes(name), `compatible body lacks <${name}>: ${post.body}`);
    }
    assert.ok(elements.includes('Encrypt'));
    for (const [name, value] of Object.entries(received.message)) {
      assert.ok(post.body.includes(`<${name}><![CDATA[${value}]]></${name}>`)
        || post.body.includes(`<${name}>${value}</${name}>`), `compatible body has another <${name}> than ${value}`);
    }
  }
}

function assertDeliveredOnce(detail, devServer) {
  assert.equal(detail.status, 'delivered');
  assert.equal(detail.attempts, 1);
  assert.equal(detail.deliveries.length, 1);
  const [delivery] = detail.deliveries;
  assert.equal(delivery.http_status, 200);
  assert.equal(delivery.answer, '');
  assert.equal(delivery.error, null);
  assert.equal(delivery.url, devServer.url);
}

// --- The tests: one set per mode -------------------------------------------------

for (const mode of ['plain', 'safe', 'compatible']) {
  test(`in ${mode} mode the wechat middleware passes the handshake and parses card_pass_check for a created card`, async (t) => {
    const shop = await linkedShop();
    const settings = pushSettings(mode);
    const devServer = await startDeveloperServer(settings, shop.account.appid);
    t.after(() => devServer.close());

    const configured = await configurePush(shop.account.appid, devServer, settings);
    const cardId = await createCoupon(shop.account);
    const detail = await waitForEventStatus(shop.account.appid, 'card_pass_check', 'delivered');
    const received = await messageOf(devServer, 'card_pass_check');

    assert.equal(typeof configured.detail, 'string');
    const { message } = received;
    assert.equal(message.MsgType, 'event');
    assert.equal(message.Event, 'card_pass_check');
    assert.equal(message.CardId, cardId);
    assert.equal(message.ToUserName, shop.account.original_id);
    assert.equal(message.CreateTime, String(detail.created_at));
    assert.equal(typeof message.FromUserName, 'string');
    assert.ok(message.FromUserName.length > 0);
    // A system event: no user, so no openid in the query.
    assert.equal(received.query.openid, undefined);
    assertPushEnvelope(devServer, received, settings, shop.account.appid, shop.account.original_id);
    assert.equal(detail.payload.card_id, cardId);
    assertDeliveredOnce(detail, devServer);
    assert.equal(devServer.messages.length, 1);
  });

  test(`in ${mode} mode the wechat middleware parses user_get_card with the claimant's openid, code, unionid and outer_str`, async (t) => {
    const shop = await linkedShop();
    const settings = pushSettings(mode);
    const devServer = await startDeveloperServer(settings, shop.account.appid);
    t.after(() => devServer.close());
    await configurePush(shop.account.appid, devServer, settings);
    const cardId = await createCoupon(shop.account);
    await waitForEventStatus(shop.account.appid, 'card_pass_check', 'delivered');
    devServer.requests.length = 0;

    const code = await claim(shop, cardId, 'node-poster');
    const detail = await waitForEventStatus(shop.account.appid, 'user_get_card', 'delivered');
    const received = await messageOf(devServer, 'user_get_card');

    const { message } = received;
    assert.equal(message.MsgType, 'event');
    assert.equal(message.Event, 'user_get_card');
    assert.equal(message.ToUserName, shop.account.original_id);
    assert.equal(message.FromUserName, shop.openid);
    assert.equal(message.CreateTime, String(detail.created_at));
    assert.equal(message.CardId, cardId);
    assert.equal(message.UserCardCode, code);
    assert.equal(message.OuterStr, 'node-poster');
    assert.equal(message.IsGiveByFriend, '0');
    assert.equal(message.FriendUserName, '');
    assert.equal(message.OldUserCardCode, '');
    assert.equal(message.UnionId, shop.unionid);
    assert.equal(received.query.openid, shop.openid);
    assertPushEnvelope(devServer, received, settings, shop.account.appid, shop.account.original_id);
    assert.equal(detail.payload.code, code);
    assertDeliveredOnce(detail, devServer);
  });
}

test('a developer server with another token fails the handshake, and the push URL is refused with 400', async (t) => {
  const shop = await linkedShop();
  const settings = pushSettings('plain');
  const devServer = await startDeveloperServer({ ...settings, token: settings.token + 'x' }, shop.account.appid);
  t.after(() => devServer.close());

  const { status, body } = await request('PUT', `/admin/v1/apps/${shop.account.appid}/push`, { url: devServer.url, ...settings });

  assert.equal(status, 400, JSON.stringify(body));
  assert.equal(body.ok, false);
  assert.match(body.detail, /401/);
  const [handshake, ...others] = devServer.requests;
  assert.equal(others.length, 0);
  assert.equal(handshake.method, 'GET');
  assert.equal(handshake.status, 401);
  assert.equal(handshake.answer, 'Invalid signature');
  assert.equal(devServer.messages.length, 0);
});

test('two handshakes within the same second carry different nonces and echostrs', async (t) => {
  const shop = await linkedShop();
  const settings = pushSettings('plain');
  const devServer = await startDeveloperServer(settings, shop.account.appid);
  t.after(() => devServer.close());

  // Configure the same URL again until two handshakes share a timestamp
  // (bounded: a PUT takes milliseconds).
  let pair = null;
  for (let put = 0; put < 20 && !pair; put += 1) {
    const { status, body } = await request('PUT', `/admin/v1/apps/${shop.account.appid}/push`, { url: devServer.url, ...settings });
    assert.equal(status, 200, JSON.stringify(body));
    const handshakes = devServer.requests.map((entry) => entry.query);
    const last = handshakes.at(-1);
    const earlier = handshakes.slice(0, -1).find((query) => query.timestamp === last.timestamp);
    if (earlier) pair = [earlier, last];
  }
  assert.ok(pair, 'no two handshakes fell within one second');

  const [first, second] = pair;
  // events.md §1: nonce is a random number, echostr a random string to echo.
  assert.notEqual(second.echostr, first.echostr, `echostr ${first.echostr} twice at timestamp ${first.timestamp}`);
  assert.notEqual(second.nonce, first.nonce, `nonce ${first.nonce} twice at timestamp ${first.timestamp}`);
});

test('a push the developer server answers with HTTP 503 is retried 5 platform seconds later with the same message', async (t) => {
  const shop = await linkedShop();
  const settings = pushSettings('safe');
  let calls = 0;
  const devServer = await startDeveloperServer(settings, shop.account.appid, (req, res) => {
    calls += 1;
    if (calls === 1) {
      res.writeHead(503);
      res.end('busy');
    } else {
      res.reply('');
    }
  });
  t.after(() => devServer.close());
  await configurePush(shop.account.appid, devServer, settings);

  const cardId = await createCoupon(shop.account);
  const failed = await waitForEventStatus(shop.account.appid, 'card_pass_check', 'retrying');
  assert.equal(failed.attempts, 1);
  const [first] = failed.deliveries;
  assert.equal(first.http_status, 503);
  assert.equal(first.answer, 'busy');
  assert.equal(failed.next_attempt_at, first.at + RETRY_DELAY);

  await admin('POST', '/admin/v1/clock/advance', { seconds: RETRY_DELAY });
  const delivered = await waitForEventStatus(shop.account.appid, 'card_pass_check', 'delivered');

  assert.equal(delivered.attempts, 2);
  assert.deepEqual(delivered.deliveries.map((d) => [d.attempt, d.http_status, d.answer]),
    [[1, 503, 'busy'], [2, 200, '']]);
  assert.ok(delivered.deliveries[1].at >= first.at + RETRY_DELAY);
  assert.equal(devServer.messages.length, 2);
  const [before, after] = devServer.messages.map((received) => received.message);
  assert.equal(before.CardId, cardId);
  // A retry is the same message: same CreateTime (events.md §2).
  assert.deepEqual(after, before);
});

test('an event whose pushes all fail is dead after the first attempt and 3 retries, 5 platform seconds apart', async (t) => {
  const shop = await linkedShop();
  const settings = pushSettings('plain');
  const devServer = await startDeveloperServer(settings, shop.account.appid, (req, res) => {
    res.writeHead(500);
    res.end('down');
  });
  t.after(() => devServer.close());
  await configurePush(shop.account.appid, devServer, settings);

  await createCoupon(shop.account);
  let detail = await waitForEventStatus(shop.account.appid, 'card_pass_check', 'retrying');
  for (let retry = 1; retry <= 3; retry += 1) {
    assert.equal(detail.attempts, retry);
    await admin('POST', '/admin/v1/clock/advance', { seconds: RETRY_DELAY });
    const expected = retry === 3 ? 'dead' : 'retrying';
    detail = await waitFor(`attempt ${retry + 1} to be recorded`, async () => {
      const [event] = await listEvents(shop.account.appid, 'card_pass_check');
      return event.attempts === retry + 1 ? eventDetail(event.id) : null;
    });
    assert.equal(detail.status, expected);
  }

  assert.deepEqual(detail.deliveries.map((d) => [d.attempt, d.http_status, d.answer]),
    [[1, 500, 'down'], [2, 500, 'down'], [3, 500, 'down'], [4, 500, 'down']]);
  const times = detail.deliveries.map((d) => d.at);
  for (let i = 1; i < times.length; i += 1) {
    assert.ok(times[i] - times[i - 1] >= RETRY_DELAY, `attempts at ${times}`);
  }
  assert.equal(devServer.messages.length, 4);
  assert.equal(new Set(devServer.messages.map((received) => received.message.CreateTime)).size, 1);
});

// A developer server may answer an event with a passive reply instead of
// "success" (events.md §2; clients.md §6 item 9: accept the wechat
// middleware's replies, whose CreateTime or TimeStamp are in milliseconds).
// WeChat only re-sends a push that got no answer, so one reply is one delivery.
for (const mode of ['plain', 'safe']) {
  test(`in ${mode} mode a passive text reply from the wechat middleware counts as delivered, not as a failure`, async (t) => {
    const shop = await linkedShop();
    const settings = pushSettings(mode);
    const devServer = await startDeveloperServer(settings, shop.account.appid, (req, res) => res.reply('已收到'));
    t.after(() => devServer.close());
    await configurePush(shop.account.appid, devServer, settings);

    const cardId = await createCoupon(shop.account);
    const received = await messageOf(devServer, 'card_pass_check');
    const [event] = await waitFor('the first delivery attempt', async () => {
      const events = await listEvents(shop.account.appid, 'card_pass_check');
      return events.length === 1 && events[0].attempts >= 1 ? events : null;
    });
    const detail = await eventDetail(event.id);

    assert.equal(received.message.CardId, cardId);
    const [post] = devServer.requests.filter((entry) => entry.method === 'POST');
    assert.equal(post.status, 200);
    if (mode === 'plain') {
      assert.match(post.answer, /^<xml><ToUserName><!\[CDATA\[.+\]\]><\/ToUserName>.*<Content><!\[CDATA\[已收到\]\]><\/Content><\/xml>$/);
    } else {
      assert.match(post.answer, /^<xml><Encrypt><!\[CDATA\[.+\]\]><\/Encrypt><MsgSignature>/);
    }
    assert.equal(detail.status, 'delivered',
      `wxcard recorded the reply as ${detail.status}: ${JSON.stringify(detail.deliveries)}`);
    assert.equal(detail.attempts, 1);
    assert.equal(detail.deliveries[0].http_status, 200);
  });
}
