"""The Alibaba Cloud adapter without a network: signature V1 against the vector of Alibaba's own documentation,
the parameters of one SendSms call, and the SmsReport / SmsUp pushes parsed."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from hotline.sms.providers import AliyunSmsGateway, WebhookFormatError, aliyun_percent_encode, aliyun_signature

# Alibaba's SMS signature example (the "HTTP protocol and signature" page of dysmsapi 2017-05-25): a GET with
# these parameters, AccessKeySecret "testSecret", signs to this value.
DOC_PARAMS = {
    "AccessKeyId": "testId",
    "Action": "SendSms",
    "Format": "XML",
    "OutId": "123",
    "PhoneNumbers": "15300000001",
    "RegionId": "cn-hangzhou",
    "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0",
    "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}',
    "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}


def test_the_signature_matches_alibabas_documented_example():
    assert aliyun_signature("GET", DOC_PARAMS, "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    # the Signature parameter itself is never signed; the method is
    assert aliyun_signature("GET", {**DOC_PARAMS, "Signature": "x"}, "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    assert aliyun_signature("POST", DOC_PARAMS, "testSecret") != "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_percent_encoding_is_rfc3986_over_utf8():
    assert aliyun_percent_encode("a b*c~d-e_f.g+/") == "a%20b%2Ac~d-e_f.g%2B%2F"
    assert aliyun_percent_encode("阿") == "%E9%98%BF"


def gateway(**templates) -> AliyunSmsGateway:
    return AliyunSmsGateway(
        access_key_id="testId",
        access_key_secret="testSecret",
        sign_name="12345热线",
        templates=templates or {"reply_released": "SMS_1"},
    )


def test_one_sendsms_call_carries_the_common_parameters_and_is_signed_by_post():
    params = gateway().request_params(
        "13800138000", "SMS_1", {"tracking_no": "20261207000001", "n": 3}, "42", nonce="n-1", timestamp="T"
    )
    assert {k: params[k] for k in ("Action", "Version", "Format", "SignatureMethod", "SignatureVersion")} == {
        "Action": "SendSms",
        "Version": "2017-05-25",
        "Format": "JSON",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
    }
    assert params["OutId"] == "42" and params["SignName"] == "12345热线" and params["TemplateCode"] == "SMS_1"
    assert json.loads(params["TemplateParam"]) == {"tracking_no": "20261207000001", "n": "3"}
    assert params["Signature"] == aliyun_signature("POST", params, "testSecret")


def test_sms_report_is_parsed_with_beijing_times_in_utc():
    body = json.dumps(
        [
            {"biz_id": "1^0", "success": True, "err_code": "DELIVERED", "report_time": "2026-12-07 08:00:00"},
            {"biz_id": "2^0", "success": False, "err_code": "MK:0001", "err_msg": "off", "out_id": 7},
            {"biz_id": "3^0", "success": False},
        ]
    ).encode()
    first, second, third = gateway().parse_receipts(body)
    assert (first.provider_ref, first.delivered, first.error, first.at) == ("1^0", True, None, datetime(2026, 12, 7))
    assert (second.delivered, second.error, second.out_id) == (False, "MK:0001: off", "7")
    assert third.error == "undelivered"


@pytest.mark.parametrize(
    ("body", "field"),
    [(b"nope", "body"), (b"{}", "body"), (b'[{"success": true}]', "0.biz_id"), (b'[{"biz_id": "1"}]', "0.success")],
)
def test_a_bad_report_names_the_field(body, field):
    with pytest.raises(WebhookFormatError) as refused:
        gateway().parse_receipts(body)
    assert refused.value.field == field


def test_sms_up_is_parsed():
    body = json.dumps(
        [{"phone_number": "13800138000", "send_time": "2026-12-07 08:00:00", "content": "1", "sequence_id": 99}]
    ).encode()
    (message,) = gateway().parse_inbound(body)
    assert (message.message_id, message.phone, message.text, message.received_at) == (
        "99",
        "13800138000",
        "1",
        datetime(2026, 12, 7),
    )
