"""wechatpy's crypto and signing, timed on the inputs of crates/sdk/examples/crypto_bench.rs.

Prints `wechatpy <op> <ops/s>` per operation; tests/bench/crypto.sh runs it.
"""

import sys
import time

from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.utils import WeChatSigner

TOKEN = "benchtoken"
KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APPID = "wx0123456789abcdef"
TIMESTAMP = "1700000000"
NONCE = "nonce123"
XML = "<xml><ToUserName><![CDATA[gh_7e1c3a5b9d2f]]></ToUserName><FromUserName><![CDATA[oFS7Fjl0WsZ9AMZqrI80nbIq8xrA]]></FromUserName><CreateTime>1700006020</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[user_get_card]]></Event><CardId><![CDATA[pFS7Fjg8kV1IdDz01r4SQwMkuCKc]]></CardId><IsGiveByFriend>0</IsGiveByFriend><UserCardCode><![CDATA[226009850808]]></UserCardCode><FriendUserName><![CDATA[]]></FriendUserName><OuterId>0</OuterId><OldUserCardCode><![CDATA[]]></OldUserCardCode><OuterStr><![CDATA[mini_home]]></OuterStr><IsRestoreMemberCard>0</IsRestoreMemberCard><IsRecommendByFriend>0</IsRecommendByFriend></xml>"
TICKET = "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg"


def rate(budget, op):
    done = 0
    started = time.perf_counter()
    while True:
        for _ in range(64):
            op()
        done += 64
        elapsed = time.perf_counter() - started
        if elapsed >= budget:
            return done / elapsed


def signature(*values):
    signer = WeChatSigner()
    signer.add_data(*values)
    return signer.signature


def main():
    budget = float(sys.argv[1]) / 1000 if len(sys.argv) > 1 else 1.0
    crypto = WeChatCrypto(TOKEN, KEY, APPID)
    prp = PrpCrypto(crypto.key)
    encrypted = prp.encrypt(XML, APPID)
    body = crypto.encrypt_message(XML, NONCE, TIMESTAMP)
    # encrypt_message returns the whole envelope; read its MsgSignature back out.
    msg_signature = body.split("<MsgSignature><![CDATA[")[1].split("]]>")[0]
    results = [
        ("card_signature", rate(budget, lambda: signature(TICKET, TIMESTAMP, "pFS7Fjg8kV1IdDz01r4SQwMkuCKc", "", "", NONCE))),
        ("msg_signature", rate(budget, lambda: signature(TOKEN, TIMESTAMP, NONCE, encrypted))),
        ("encrypt", rate(budget, lambda: prp.encrypt(XML, APPID))),
        ("decrypt", rate(budget, lambda: prp.decrypt(encrypted, APPID))),
        ("decrypt_message", rate(budget, lambda: crypto.decrypt_message(body, msg_signature, TIMESTAMP, NONCE))),
    ]
    for op, ops in results:
        print("wechatpy %s %.0f" % (op, ops))


if __name__ == "__main__":
    main()
