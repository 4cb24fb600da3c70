'use strict';
// The wxcard under test (WXCARD_URL, set by tests/compat/run.sh) and its admin,
// simulator and merchant API over fetch, shared by the node compat suites.

const test = require('node:test');
const assert = require('node:assert/strict');

const BASE = (process.env.WXCARD_URL || '').replace(/\/+$/, '');

test.before(() => {
  assert.ok(BASE, 'WXCARD_URL is not set: start `wxcard serve` and export its URL, or use tests/compat/run.sh');
});

// One call; the body must be JSON whatever the status.
async function request(method, path, payload) {
  const res = await fetch(BASE + path, {
    method,
    headers: payload ? { 'content-type': 'application/json' } : {},
    body: payload ? JSON.stringify(payload) : undefined,
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    assert.fail(`${method} ${path} -> HTTP ${res.status} with a body that is not JSON: ${text}`);
  }
  return { status: res.status, body };
}

// A call that must succeed: HTTP 200 and errcode 0 (or none).
async function admin(method, path, payload) {
  const { status, body } = await request(method, path, payload);
  assert.equal(status, 200, `${method} ${path} -> HTTP ${status} ${JSON.stringify(body)}`);
  assert.equal(body.errcode ?? 0, 0, `${method} ${path} -> ${JSON.stringify(body)}`);
  return body;
}

module.exports = { BASE, request, admin };
