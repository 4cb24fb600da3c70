'use strict';
// Flows A, B, C and D of DESIGN.md §2 clicked through on the real pages: the simulator page at
// `/` of `wxcard demo`, with the demo Mini Program page (served by the merchant server) in its
// phone frame. Each step saves a screenshot under $SHOTS; the merchant's records are checked
// over its JSON API; any console error fails the run.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const SHOTS = process.env.SHOTS || path.join(__dirname, '../../target/e2e');
const WAIT_MS = 15000;
let demo;
let urls;
let browser;
const consoleErrors = [];

// Waits until `check` returns something truthy (the pages and pushes are asynchronous).
async function until(what, check) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function records() {
  const response = await fetch(urls.merchant + '/api/records');
  return response.json();
}

function startDemo() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxcard-e2e-'));
  demo = spawn(process.env.WXCARD_BIN, ['demo', '--listen', '127.0.0.1:0', '--db', path.join(dir, 'demo.db'), '--log', 'warn'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    demo.stdout.on('data', (chunk) => {
      out += chunk;
      const clickThrough = out.match(/click through\s+(\S+)/);
      const merchant = out.match(/merchant server\s+(\S+)\//);
      const platform = out.match(/listening on (\S+)/);
      if (clickThrough && merchant && platform) {
        resolve({ simulator: clickThrough[1], merchant: merchant[1], platform: platform[1] });
      }
    });
    demo.on('exit', (code) => reject(new Error(`wxcard demo exited with ${code}: ${out}`)));
  });
}

async function newPage(width, height) {
  const page = await browser.newPage({ viewport: { width, height } });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`${message.text()} (${page.url()})`);
  });
  page.on('pageerror', (error) => consoleErrors.push(`${error.message} (${page.url()})`));
  return page;
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

test.before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  urls = await startDemo();
  // The demo creates its cards once it serves requests.
  await until('the demo cards', async () => {
    const config = await (await fetch(urls.merchant + '/api/config')).json();
    return config.cards && config.cards.coupon && config.cards.jump && config.cards.non_jump;
  });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ['--no-sandbox'] });
});

test.after(async () => {
  if (browser) await browser.close();
  if (demo) demo.kill();
});

test('flows A, B, C and D click through and the merchant records them', async () => {
  const page = await newPage(1280, 900);
  await page.goto(urls.simulator);
  const phone = page.frameLocator('#phone');
  await phone.locator('#get-coupon').waitFor();
  await shot(page, '01-start');

  // Flow A: get a coupon; the page records the claim and opens the card.
  await phone.locator('#get-coupon').click();
  await phone.locator('#status', { hasText: 'Coupon added' }).waitFor();
  await phone.locator('#wxcard-overlay .wxcard-code').waitFor();
  await shot(page, '02-coupon-added-and-opened');
  await phone.locator('#wxcard-card-close').click();
  const claimed = await until('the claim and its user_get_card push', async () => {
    const recorded = await records();
    const pushed = recorded.events.some((event) => event.event === 'user_get_card');
    return recorded.claims.length === 1 && pushed && recorded;
  });
  assert.equal(claimed.claims[0].sa_openid !== null, true, 'the unionid joined the two openids');

  // Flow B: my cards, then open the coupon with its real code.
  await phone.locator('#my-cards').click();
  await phone.locator('#card-list button').first().click();
  await phone.locator('#wxcard-overlay .wxcard-code', { hasText: claimed.claims[0].code }).waitFor();
  await shot(page, '03-my-cards-open');
  await phone.locator('#wxcard-card-close').click();

  // Flow C, jump-type: the component, then the merchant activates.
  await phone.locator('#join-jump').click();
  await phone.locator('#wxcard-component-submit').waitFor();
  await shot(page, '04-component-jump-form');
  await phone.locator('#wxcard-component-submit').click();
  await phone.locator('#status', { hasText: 'Member number' }).waitFor();
  await shot(page, '05-jump-activated');
  await until('the member recorded', async () => (await records()).members.length === 1);

  // Flow C, cancel: back out of the component.
  await phone.locator('#join-jump').click();
  await phone.locator('#wxcard-component-cancel').waitFor();
  await phone.locator('#wxcard-component-cancel').click();
  await phone.locator('#status', { hasText: 'without submitting' }).waitFor();
  await shot(page, '06-component-cancelled');

  // Flow C, non-jump: WeChat activates; the merchant hears it from the push.
  await phone.locator('#join-nonjump').click();
  await phone.locator('#wxcard-component-submit').waitFor();
  await phone.locator('#wxcard-component-submit').click();
  await phone.locator('#status', { hasText: 'Back from the member card' }).waitFor();
  await until('submit_membercard_user_info pushed', async () =>
    (await records()).events.some((event) => event.event === 'submit_membercard_user_info'));
  await shot(page, '07-non-jump-activated');

  // Flow D: tap the bonus entry of a member card in the card package.
  const memberCard = page.locator('.card', { hasText: 'Member (one tap)' });
  await memberCard.locator('button[data-entry="bonus"]').click();
  await page.locator('#tapped', { hasText: 'pages/points/index' }).waitFor();
  const tapped = await page.locator('#tapped').textContent();
  assert.match(tapped, /card_id=.*encrypt_code=.*openid=/);
  const pushed = page.locator('.event[data-event="user_get_card"]').first();
  await pushed.locator('summary').click();
  await pushed.locator('pre', { hasText: '<Event><![CDATA[user_get_card]]></Event>' }).waitFor();
  await page.locator('.request[data-path="/card/code/decrypt"]').first().waitFor();
  await page.locator('.card img.qr').first().waitFor();
  await shot(page, '08-tap-pushes-and-api-calls');

  // An old client: the page falls back to its own registration.
  const bob = await page.locator('#user option', { hasText: 'Bob' }).getAttribute('value');
  await page.locator('#user').selectOption(bob);
  await phone.locator('#join-jump').waitFor();
  await phone.locator('#get-coupon').click();
  await phone.locator('#status', { hasText: 'too old' }).waitFor();
  await phone.locator('#join-jump').click();
  await phone.locator('#fallback').waitFor();
  await shot(page, '09-old-client-fallback');
  await page.close();
});

test('each page fits a phone width and a desktop width', async () => {
  for (const [name, width, height] of [['phone', 390, 844], ['desktop', 1280, 800]]) {
    for (const [label, url] of [
      ['simulator', urls.simulator],
      ['mini-program', urls.merchant + '/mp/'],
      ['merchant-records', urls.merchant + '/'],
    ]) {
      const page = await newPage(width, height);
      await page.goto(url);
      await page.waitForLoadState('networkidle');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      await shot(page, `width-${name}-${label}`);
      assert.ok(overflow <= 1, `${label} scrolls sideways at ${width}px by ${overflow}px`);
      await page.close();
    }
  }
});

test('no page logged a console error', () => {
  assert.deepEqual(consoleErrors, []);
});
