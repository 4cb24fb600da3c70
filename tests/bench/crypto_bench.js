'use strict';
// node's wechat-crypto (the `wechat` middleware's crypto), timed on the inputs of
// crates/sdk/examples/crypto_bench.rs. Prints `wechat-crypto <op> <ops/s>` per operation;
// tests/bench/crypto.sh runs it. wechat-crypto has no card signer: card_signature is left out.

const path = require('node:path');
const WXBizMsgCrypt = require(path.join(__dirname, '../compat/node/node_modules/wechat-crypto'));

const TOKEN = 'benchtoken';
const KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const APPID = 'wx0123456789abcdef';
const TIMESTAMP = '1700000000';
const NONCE = 'nonce123';
const XML = '<xml><ToUserName><![CDATA[gh_7e1c3a5b9d2f]]></ToUserName><FromUserName><![CDATA[oFS7Fjl0WsZ9AMZqrI80nbIq8xrA]]></FromUserName><CreateTime>1700006020</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[user_get_card]]></Event><CardId><![CDATA[pFS7Fjg8kV1IdDz01r4SQwMkuCKc]]></CardId><IsGiveByFriend>0</IsGiveByFriend><UserCardCode><![CDATA[226009850808]]></UserCardCode><FriendUserName><![CDATA[]]></FriendUserName><OuterId>0</OuterId><OldUserCardCode><![CDATA[]]></OldUserCardCode><OuterStr><![CDATA[mini_home]]></OuterStr><IsRestoreMemberCard>0</IsRestoreMemberCard><IsRecommendByFriend>0</IsRecommendByFriend></xml>';

function rate(budgetMs, op) {
  let done = 0;
  const started = process.hrtime.bigint();
  for (;;) {
    for (let i = 0; i < 256; i += 1) op();
    done += 256;
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    if (elapsedMs >= budgetMs) return (done * 1000) / elapsedMs;
  }
}

const budget = Number(process.argv[2] || 1000);
const crypt = new WXBizMsgCrypt(TOKEN, KEY, APPID);
const encrypted = crypt.encrypt(XML);
const signature = crypt.getSignature(TIMESTAMP, NONCE, encrypted);
const results = [
  ['msg_signature', rate(budget, () => crypt.getSignature(TIMESTAMP, NONCE, encrypted))],
  ['encrypt', rate(budget, () => crypt.encrypt(XML))],
  ['decrypt', rate(budget, () => crypt.decrypt(encrypted))],
  // What a safe-mode receiver does: check msg_signature, then decrypt.
  ['decrypt_message', rate(budget, () => {
    if (crypt.getSignature(TIMESTAMP, NONCE, encrypted) !== signature) throw new Error('signature');
    return crypt.decrypt(encrypted);
  })],
];
for (const [op, ops] of results) console.log(`wechat-crypto ${op} ${ops.toFixed(0)}`);
