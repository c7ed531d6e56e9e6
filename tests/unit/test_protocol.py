"""The versioned JSON envelope between browsers and server."""

from __future__ import annotations

import json

import msgspec
import pytest

from cobrowse.core import protocol
from cobrowse.core.protocol import (
    BadMessage,
    Click,
    Exit,
    Join,
    Pointer,
    ServerMessage,
    SessionInfo,
    Start,
    Stream,
    decode_agent,
    decode_customer,
)

STREAM_FRAME = '{"v":1,"t":"stream","e":{"type":3,"data":{}}}'


# Customer frames --------------------------------------------------------------------


def test_customer_start_frame_is_accepted() -> None:
    assert decode_customer('{"v":1,"t":"start"}') == Start(v=1)


def test_customer_stream_frame_keeps_the_event_bytes_untouched() -> None:
    message = decode_customer(STREAM_FRAME)
    assert isinstance(message, Stream)
    assert isinstance(message.e, msgspec.Raw)
    assert bytes(message.e) == b'{"type":3,"data":{}}'


def test_stream_event_bytes_keep_whitespace_key_order_and_unicode() -> None:
    event = '{ "z": 1,  "a": [1, 2.50, "caf\\u00e9", "日本"] }'
    message = decode_customer(f'{{"v":1,"t":"stream","e":{event}}}'.encode())
    assert isinstance(message, Stream)
    assert bytes(message.e) == event.encode()


@pytest.mark.parametrize("event", ['"text"', "42", "null", "[1,2]"])
def test_stream_event_is_not_decoded(event: str) -> None:
    message = decode_customer(f'{{"v":1,"t":"stream","e":{event}}}')
    assert isinstance(message, Stream)
    assert bytes(message.e) == event.encode()


def test_customer_pointer_frame_is_accepted() -> None:
    assert decode_customer('{"v":1,"t":"pointer","x":10.5,"y":-1}') == Pointer(v=1, x=10.5, y=-1.0)


def test_customer_exit_frame_is_accepted() -> None:
    assert decode_customer('{"v":1,"t":"exit"}') == Exit(v=1)


def test_frames_may_be_bytes_or_text() -> None:
    assert decode_customer(b'{"v":1,"t":"exit"}') == decode_customer('{"v":1,"t":"exit"}')
    assert decode_agent(b'{"v":1,"t":"exit"}') == decode_agent('{"v":1,"t":"exit"}')


def test_field_order_in_a_frame_does_not_matter() -> None:
    assert decode_customer('{"x":1,"t":"pointer","y":2,"v":1}') == Pointer(v=1, x=1, y=2)


# Agent frames -----------------------------------------------------------------------


def test_agent_join_frame_keeps_the_id_as_typed() -> None:
    assert decode_agent('{"v":1,"t":"join","id":"123 456-789"}') == Join(v=1, id="123 456-789")


def test_agent_click_frame_is_accepted() -> None:
    assert decode_agent('{"v":1,"t":"click","x":0,"y":300.25}') == Click(v=1, x=0, y=300.25)


def test_agent_pointer_frame_is_accepted() -> None:
    assert decode_agent('{"v":1,"t":"pointer","x":-1,"y":-1}') == Pointer(v=1, x=-1, y=-1)


def test_agent_exit_frame_is_accepted() -> None:
    assert decode_agent('{"v":1,"t":"exit"}') == Exit(v=1)


@pytest.mark.parametrize("value", [-1_000_000, 1_000_000, 0])
def test_coordinates_at_the_limits_are_accepted(value: int) -> None:
    frame = f'{{"v":1,"t":"pointer","x":{value},"y":{value}}}'
    assert decode_customer(frame) == Pointer(v=1, x=value, y=value)
    assert decode_agent(frame) == Pointer(v=1, x=value, y=value)


def test_join_id_of_32_characters_is_accepted() -> None:
    typed = "1" * 32
    assert decode_agent(f'{{"v":1,"t":"join","id":"{typed}"}}') == Join(v=1, id=typed)


# Rejected frames --------------------------------------------------------------------

BAD_FOR_BOTH = [
    pytest.param("not json", id="not-json"),
    pytest.param("", id="empty"),
    pytest.param('{"v":1,"t":"exit"', id="truncated"),
    pytest.param('[{"v":1,"t":"exit"}]', id="json-array"),
    pytest.param('"exit"', id="json-string"),
    pytest.param("null", id="json-null"),
    pytest.param('{"v":1,"t":"launch"}', id="unknown-type"),
    pytest.param('{"v":1}', id="missing-type"),
    pytest.param('{"t":"exit"}', id="missing-version"),
    pytest.param('{"v":2,"t":"exit"}', id="version-2"),
    pytest.param('{"v":0,"t":"exit"}', id="version-0"),
    pytest.param('{"v":"1","t":"exit"}', id="version-as-string"),
    pytest.param('{"v":true,"t":"exit"}', id="version-as-bool"),
    pytest.param('{"v":1,"t":"exit","extra":1}', id="unknown-field"),
    pytest.param('{"v":1,"t":"pointer","x":1}', id="pointer-missing-y"),
    pytest.param('{"v":1,"t":"pointer","x":"1","y":2}', id="coordinate-as-string"),
    pytest.param('{"v":1,"t":"pointer","x":1000001,"y":0}', id="x-too-big"),
    pytest.param('{"v":1,"t":"pointer","x":0,"y":-1000001}', id="y-too-small"),
    pytest.param('{"v":1,"t":"pointer","x":1e400,"y":0}', id="x-infinite"),
]


@pytest.mark.parametrize("frame", BAD_FOR_BOTH)
def test_customer_bad_frame_is_rejected(frame: str) -> None:
    with pytest.raises(BadMessage):
        decode_customer(frame)


@pytest.mark.parametrize("frame", BAD_FOR_BOTH)
def test_agent_bad_frame_is_rejected(frame: str) -> None:
    with pytest.raises(BadMessage):
        decode_agent(frame)


@pytest.mark.parametrize(
    "frame",
    [
        '{"v":1,"t":"join","id":"123456789"}',
        '{"v":1,"t":"click","x":1,"y":2}',
    ],
)
def test_customer_cannot_send_agent_only_messages(frame: str) -> None:
    decode_agent(frame)  # valid from an agent
    with pytest.raises(BadMessage, match="customer"):
        decode_customer(frame)


@pytest.mark.parametrize("frame", ['{"v":1,"t":"start"}', STREAM_FRAME])
def test_agent_cannot_send_customer_only_messages(frame: str) -> None:
    decode_customer(frame)  # valid from a customer
    with pytest.raises(BadMessage, match="agent"):
        decode_agent(frame)


@pytest.mark.parametrize(
    "frame",
    [
        '{"v":1,"t":"stream"}',
        '{"v":1,"t":"start","e":{}}',
        '{"v":1,"t":"click","x":1e7,"y":0}',
    ],
)
def test_customer_malformed_message_is_rejected(frame: str) -> None:
    with pytest.raises(BadMessage):
        decode_customer(frame)


@pytest.mark.parametrize(
    "frame",
    [
        '{"v":1,"t":"join"}',
        '{"v":1,"t":"join","id":123456789}',
        '{"v":1,"t":"click","x":1}',
        '{"v":1,"t":"click","x":-1000001,"y":0}',
    ],
)
def test_agent_malformed_message_is_rejected(frame: str) -> None:
    with pytest.raises(BadMessage):
        decode_agent(frame)


def test_join_id_longer_than_32_characters_is_rejected() -> None:
    with pytest.raises(BadMessage):
        decode_agent(f'{{"v":1,"t":"join","id":"{"1" * 33}"}}')


@pytest.mark.parametrize(
    ("frame", "mentions"),
    [
        ("not json", "JSON"),
        ("[1]", "object"),
        ('{"v":1,"t":"launch"}', "launch"),
        ('{"t":"exit"}', "`v`"),
        ('{"v":1,"t":"exit","extra":1}', "extra"),
        ('{"v":1,"t":"pointer","x":1000001,"y":0}', "$.x"),
    ],
)
def test_rejection_is_a_sentence_that_says_what_is_wrong(frame: str, mentions: str) -> None:
    with pytest.raises(BadMessage) as raised:
        decode_customer(frame)
    message = str(raised.value)
    assert message[0].isupper()
    assert message.endswith(".")
    assert "customer" in message
    assert mentions in message


def test_agent_rejection_names_the_agent() -> None:
    with pytest.raises(BadMessage) as raised:
        decode_agent('{"v":1,"t":"start"}')
    assert "agent message" in str(raised.value)


def test_rejection_does_not_chain_the_decoder_error() -> None:
    with pytest.raises(BadMessage) as raised:
        decode_customer("not json")
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


# Server messages --------------------------------------------------------------------


def test_ended_message() -> None:
    assert json.loads(protocol.ended("agent_exit", "text")) == {
        "v": 1,
        "t": "ended",
        "reason": "agent_exit",
        "text": "text",
    }


def test_error_message() -> None:
    assert json.loads(protocol.error("agent_busy", "You are busy.")) == {
        "v": 1,
        "t": "error",
        "code": "agent_busy",
        "text": "You are busy.",
    }


def test_session_started_message() -> None:
    started = protocol.SessionStarted(
        v=1, session=protocol.SessionInfo("123456789", "idle"), resume="tab-token"
    )
    assert json.loads(protocol.encode(started)) == {
        "v": 1,
        "t": "session",
        "session": {"id": "123456789", "state": "idle", "mode": "pointer"},
        "resume": "tab-token",
    }


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (protocol.AgentJoinedNotice(v=1), {"v": 1, "t": "agent_joined"}),
        (protocol.SnapshotRequest(v=1), {"v": 1, "t": "snapshot"}),
        (
            protocol.Hello(v=1, agent="alice", session=None),
            {"v": 1, "t": "hello", "agent": "alice", "session": None},
        ),
        (
            protocol.Hello(v=1, agent="alice", session=SessionInfo("123456789", "active")),
            {
                "v": 1,
                "t": "hello",
                "agent": "alice",
                "session": {"id": "123456789", "state": "active", "mode": "pointer"},
            },
        ),
        (
            protocol.Joined(v=1, session=SessionInfo("123456789", "active")),
            {
                "v": 1,
                "t": "joined",
                "session": {"id": "123456789", "state": "active", "mode": "pointer"},
            },
        ),
    ],
)
def test_server_message_encodes_to_json(message: ServerMessage, expected: object) -> None:
    assert json.loads(protocol.encode(message)) == expected


@pytest.mark.parametrize(
    "message",
    [
        protocol.SessionStarted(v=1, session=SessionInfo("123456789", "idle")),
        protocol.AgentJoinedNotice(v=1),
        protocol.SnapshotRequest(v=1),
        protocol.Hello(v=1, agent="alice", session=None),
        protocol.Joined(v=1, session=SessionInfo("123456789", "active")),
        protocol.EndedNotice(v=1, reason="customer_left", text="The customer left."),
        protocol.ErrorNotice(v=1, code="bad_session_id", text="Nine digits."),
    ],
)
def test_server_message_round_trips(message: ServerMessage) -> None:
    encoded = protocol.encode(message)
    assert isinstance(encoded, str)
    assert msgspec.json.decode(encoded, type=ServerMessage) == message


def test_encoded_text_is_escaped_json() -> None:
    text = 'Say "hi" \\ then <leave>\n'
    assert json.loads(protocol.error("x", text))["text"] == text


def test_every_message_carries_the_protocol_version() -> None:
    assert protocol.PROTOCOL_VERSION == 1
    assert json.loads(protocol.ended("a", "b"))["v"] == protocol.PROTOCOL_VERSION


def test_application_close_codes_are_distinct_and_in_the_private_range() -> None:
    codes = [
        protocol.CLOSE_BAD_MESSAGE,
        protocol.CLOSE_UNAUTHENTICATED,
        protocol.CLOSE_FORBIDDEN_ORIGIN,
        protocol.CLOSE_REPLACED,
        protocol.CLOSE_ENDED,
    ]
    assert len(set(codes)) == len(codes)
    assert all(4000 <= code <= 4999 for code in codes)
