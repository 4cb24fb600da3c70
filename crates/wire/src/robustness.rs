//! Bounded fuzzing in `cargo test`: valid inputs mutated many times over with a fixed seed
//! (so a failure reproduces), fed to the parsers that read what others send. Each must answer
//! with a value or an error, never panic. An input that once broke one belongs in the
//! regression lists below.

use crate::crypto::MsgCrypt;
use crate::event::{parse, EventMessage};
use crate::fuzz::{mutate, Campaign};

/// Mutations per target; enough to reach every branch of these small parsers in well under a
/// second in a debug build.
const ROUNDS: usize = 4000;

const EVENT: &str = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[user_get_card]]></Event><CardId><![CDATA[pCard]]></CardId><IsGiveByFriend>0</IsGiveByFriend><UserCardCode><![CDATA[123]]></UserCardCode><OuterId>0</OuterId><OuterStr><![CDATA[x]]></OuterStr><UnionId><![CDATA[u]]></UnionId></xml>";

/// Inputs that once reached a panic; kept so they never do again.
const EVENT_REGRESSIONS: &[&str] = &["", "<", "<xml>", "<xml><Event>", "<xml><![CDATA[", "]]>"];

#[test]
fn event_xml_parsing_answers_every_mutation_without_panicking() {
    let rendered = parse(EVENT).map(|message: EventMessage| message.render());
    let seeds = [EVENT.to_owned(), rendered.unwrap_or_default()];
    for input in EVENT_REGRESSIONS {
        let _ = parse(input);
    }
    Campaign {
        name: "event XML",
        seed: 0x5eed_0001,
        rounds: ROUNDS,
    }
    .run(
        |rng, round| mutate(rng, &seeds[round % seeds.len()]),
        |input| {
            let _ = parse(input);
        },
    );
}

#[test]
fn message_decryption_answers_every_mutation_without_panicking() {
    let crypt = MsgCrypt::new(
        "tok",
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        "wx0123456789abcdef",
    )
    .expect("a valid key");
    let encrypted = crypt.encrypt(EVENT, [7; 16]);
    let push = crypt.encrypt_push("gh_1", EVENT, "1700000000", "n1", [7; 16]);
    // Round by round: a ciphertext, a whole encrypted push, and (keys are input too) an
    // EncodingAESKey, which is refused when mutated, not a panic.
    Campaign {
        name: "message decryption",
        seed: 0x5eed_0002,
        rounds: ROUNDS,
    }
    .run(
        |rng, round| {
            let seed = match round % 3 {
                0 => &encrypted,
                1 => &push.body,
                _ => "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
            };
            (round % 3, mutate(rng, seed))
        },
        |(kind, input)| match kind {
            0 => {
                let _ = crypt.decrypt(input);
            }
            1 => {
                let _ = crypt.decrypt_message(input, &push.msg_signature, "1700000000", "n1");
            }
            _ => {
                let _ = MsgCrypt::new("tok", input, "wx0123456789abcdef");
            }
        },
    );
}
