//! The SDK's crypto and signing, timed: one line per operation, `rust <op> <ops/s>`, on the
//! same inputs as `tests/bench/crypto_bench.py` (wechatpy) and `tests/bench/crypto_bench.js`
//! (node's wechat-crypto). `tests/bench/crypto.sh` runs all three and prints them side by side.

use std::hint::black_box;
use std::time::{Duration, Instant};

use wxcard_sdk::push::{PushQuery, PushReceiver};
use wxcard_wire::crypto::MsgCrypt;
use wxcard_wire::sign::{card_signature, msg_signature, server_signature, CardSignInput};

const TOKEN: &str = "benchtoken";
const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const APPID: &str = "wx0123456789abcdef";
const TIMESTAMP: &str = "1700000000";
const NONCE: &str = "nonce123";
const XML: &str = "<xml><ToUserName><![CDATA[gh_7e1c3a5b9d2f]]></ToUserName><FromUserName><![CDATA[oFS7Fjl0WsZ9AMZqrI80nbIq8xrA]]></FromUserName><CreateTime>1700006020</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[user_get_card]]></Event><CardId><![CDATA[pFS7Fjg8kV1IdDz01r4SQwMkuCKc]]></CardId><IsGiveByFriend>0</IsGiveByFriend><UserCardCode><![CDATA[226009850808]]></UserCardCode><FriendUserName><![CDATA[]]></FriendUserName><OuterId>0</OuterId><OldUserCardCode><![CDATA[]]></OldUserCardCode><OuterStr><![CDATA[mini_home]]></OuterStr><IsRestoreMemberCard>0</IsRestoreMemberCard><IsRecommendByFriend>0</IsRecommendByFriend></xml>";

/// Runs `op` for about `budget`, returns operations per second.
fn rate(budget: Duration, mut op: impl FnMut()) -> f64 {
    let mut done: u64 = 0;
    let started = Instant::now();
    loop {
        for _ in 0..256 {
            op();
        }
        done += 256;
        let elapsed = started.elapsed();
        if elapsed >= budget {
            return done as f64 / elapsed.as_secs_f64();
        }
    }
}

fn main() {
    let budget = Duration::from_millis(
        std::env::args()
            .nth(1)
            .and_then(|ms| ms.parse().ok())
            .unwrap_or(1000),
    );
    let crypt = MsgCrypt::new(TOKEN, KEY, APPID).expect("a valid key");
    let encrypted = crypt.encrypt(XML, [7; 16]);
    let push = crypt.encrypt_push("gh_7e1c3a5b9d2f", XML, TIMESTAMP, NONCE, [7; 16]);
    let receiver = PushReceiver::safe(TOKEN, KEY, APPID).expect("a valid key");
    let query = PushQuery::parse(&format!(
        "signature={}&timestamp={TIMESTAMP}&nonce={NONCE}&encrypt_type=aes&msg_signature={}",
        server_signature(TOKEN, TIMESTAMP, NONCE),
        push.msg_signature
    ));

    let results = [
        (
            "card_signature",
            rate(budget, || {
                black_box(card_signature(&CardSignInput {
                    api_ticket: black_box("sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg"),
                    timestamp: TIMESTAMP,
                    card_id: "pFS7Fjg8kV1IdDz01r4SQwMkuCKc",
                    code: "",
                    openid: "",
                    nonce_str: NONCE,
                    balance: None,
                }));
            }),
        ),
        (
            "msg_signature",
            rate(budget, || {
                black_box(msg_signature(
                    TOKEN,
                    TIMESTAMP,
                    NONCE,
                    black_box(&encrypted),
                ));
            }),
        ),
        (
            "encrypt",
            rate(budget, || {
                black_box(crypt.encrypt(black_box(XML), [7; 16]));
            }),
        ),
        (
            "decrypt",
            rate(budget, || {
                black_box(crypt.decrypt(black_box(&encrypted)).expect("decrypts"));
            }),
        ),
        (
            "decrypt_message",
            rate(budget, || {
                black_box(
                    crypt
                        .decrypt_message(
                            black_box(&push.body),
                            &push.msg_signature,
                            TIMESTAMP,
                            NONCE,
                        )
                        .expect("decrypts"),
                );
            }),
        ),
        (
            "receive_push",
            rate(budget, || {
                black_box(
                    receiver
                        .receive(&query, black_box(&push.body))
                        .expect("reads"),
                );
            }),
        ),
    ];
    for (op, ops) in results {
        println!("rust {op} {ops:.0}");
    }
}
