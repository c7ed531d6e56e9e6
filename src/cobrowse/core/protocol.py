"""The wire protocol between the browsers and the server: a small versioned JSON envelope.

Every WebSocket text frame is one object ``{"v": 1, "t": <type>, ...}``. The server
validates the envelope of every frame it receives but never decodes the rrweb
payload of a ``stream`` frame (``e`` stays :class:`msgspec.Raw`): stream and pointer
frames are forwarded byte for byte once their envelope checks out.

Close codes the server uses are the ``CLOSE_*`` constants below, beyond the
standard 1000 (normal) and 1009 (frame too big).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal, TypeVar

import msgspec

PROTOCOL_VERSION = 1

CLOSE_BAD_MESSAGE = 4400
"""A frame that is not valid JSON, not a known message type, or not allowed for the sender."""
CLOSE_UNAUTHENTICATED = 4401
"""The agent socket has no valid sign-in cookie."""
CLOSE_FORBIDDEN_ORIGIN = 4403
"""The page's origin is not a registered site (sent before accepting: the handshake gets 403)."""
CLOSE_REPLACED = 4409
"""The same agent opened the console elsewhere; the newest console wins."""
CLOSE_ENDED = 4000
"""The session ended; the ``ended`` message just before says why."""

Coordinate = Annotated[float, msgspec.Meta(ge=-1_000_000, le=1_000_000)]
TypedSessionId = Annotated[str, msgspec.Meta(max_length=32)]


class _Message(msgspec.Struct, tag_field="t", forbid_unknown_fields=True):
    v: Literal[1]


# From the customer's page ---------------------------------------------------------


ChatId = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
ChatToken = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
ChatText = Annotated[str, msgspec.Meta(max_length=2000)]


class Start(_Message, tag="start"):
    """Start a new co-browse session; with ``chat`` and ``token`` (the web chat's
    Co-browse button), a session bound to that chat."""

    chat: ChatId | None = None
    token: ChatToken | None = None


class Resume(_Message, tag="resume"):
    """A new page of the same tab takes the session over (S9)."""

    id: Annotated[str, msgspec.Meta(pattern=r"^[1-9][0-9]{8}$")]
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class Stream(_Message, tag="stream"):
    """One rrweb event, already masked in the customer's browser."""

    e: msgspec.Raw


class Pointer(_Message, tag="pointer"):
    """Where a party's mouse pointer is, in the customer's viewport coordinates."""

    x: Coordinate
    y: Coordinate


class Exit(_Message, tag="exit"):
    """The sender presses Exit: the session ends for both."""


class PointerMode(_Message, tag="pointer_mode"):
    """The sender takes the session back to pointer mode."""


class WriteAnswer(_Message, tag="write_answer"):
    """The customer's answer to the agent's request for write mode."""

    accepted: bool


class Refused(_Message, tag="refused"):
    """The customer's page refused an agent action (a restriction); forwarded to the agent.

    ``code`` and ``text`` describe the rule, never the content of a field.
    """

    code: Annotated[str, msgspec.Meta(max_length=40, pattern=r"^[a-z_]+$")]
    text: Annotated[str, msgspec.Meta(max_length=300)]


# From the agent's console ---------------------------------------------------------


class Join(_Message, tag="join"):
    id: TypedSessionId


class Click(_Message, tag="click"):
    """An agent click shown to the customer as a ripple only (never performed)."""

    x: Coordinate
    y: Coordinate


class RequestWrite(_Message, tag="request_write"):
    """The agent asks the customer for write mode."""


NodeId = Annotated[int, msgspec.Meta(ge=0, le=2**31)]


class Act(_Message, tag="act"):
    """An agent action to perform on the customer's page; forwarded only in write mode.

    ``id`` is the rrweb node id of the target, the same on both sides.
    """

    a: Literal["click", "key", "select", "scroll", "navigate"]
    id: NodeId | None = None
    x: Coordinate | None = None
    y: Coordinate | None = None
    key: Annotated[str, msgspec.Meta(min_length=1, max_length=32)] | None = None
    shift: bool = False
    value: Annotated[str, msgspec.Meta(max_length=10_000)] | None = None
    top: Coordinate | None = None
    left: Coordinate | None = None
    nav: Literal["back", "forward", "reload", "url"] | None = None
    url: Annotated[str, msgspec.Meta(max_length=2048)] | None = None


# The agent console's web chat frames -----------------------------------------------


class ChatList(_Message, tag="chat_list"):
    """Ask for the waiting queue and the agent's own open chats (polled)."""


class ChatAccept(_Message, tag="chat_accept"):
    id: ChatId


class ChatOpen(_Message, tag="chat_open"):
    """Ask for a chat's messages (the agent's own chats only)."""

    id: ChatId


class ChatReply(_Message, tag="chat_reply"):
    id: ChatId
    text: ChatText


class AgentChatEnd(_Message, tag="chat_end"):
    id: ChatId


# The customer's chat socket (/ws/chat) ---------------------------------------------


class ChatStart(_Message, tag="chat_start"):
    name: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    text: ChatText | None = None


class ChatResume(_Message, tag="chat_resume"):
    """The tab's next page (or the same page reconnecting) takes the chat over."""

    id: ChatId
    token: ChatToken


class ChatSay(_Message, tag="chat_say"):
    text: ChatText


class CustomerChatEnd(_Message, tag="chat_end"):
    pass


ChatCustomerMessage = ChatStart | ChatResume | ChatSay | CustomerChatEnd

CustomerMessage = Start | Resume | Stream | Pointer | Exit | PointerMode | WriteAnswer | Refused
AgentMessage = (
    Join
    | Pointer
    | Click
    | Exit
    | PointerMode
    | RequestWrite
    | Act
    | ChatList
    | ChatAccept
    | ChatOpen
    | ChatReply
    | AgentChatEnd
)

_customer_decoder: msgspec.json.Decoder[CustomerMessage] = msgspec.json.Decoder(CustomerMessage)
_agent_decoder: msgspec.json.Decoder[AgentMessage] = msgspec.json.Decoder(AgentMessage)
_chat_decoder: msgspec.json.Decoder[ChatCustomerMessage] = msgspec.json.Decoder(ChatCustomerMessage)


class BadMessage(Exception):
    """A frame the server will not accept; ``str(exc)`` says why in a sentence."""


_Decoded = TypeVar("_Decoded")


def _decode(decoder: msgspec.json.Decoder[_Decoded], frame: str | bytes, who: str) -> _Decoded:
    try:
        return decoder.decode(frame)
    except msgspec.ValidationError as exc:
        raise BadMessage(f"Invalid {who} message: {exc}.") from None
    except msgspec.DecodeError as exc:
        raise BadMessage(f"A {who} message must be a JSON object: {exc}.") from None


def decode_customer(frame: str | bytes) -> CustomerMessage:
    return _decode(_customer_decoder, frame, "customer")


def decode_agent(frame: str | bytes) -> AgentMessage:
    return _decode(_agent_decoder, frame, "agent")


def decode_chat(frame: str | bytes) -> ChatCustomerMessage:
    return _decode(_chat_decoder, frame, "chat")


# From the server ------------------------------------------------------------------


class SessionInfo(msgspec.Struct, frozen=True):
    id: str
    state: str
    mode: str = "pointer"


class SessionStarted(_Message, tag="session"):
    session: SessionInfo
    resume: str | None = None
    """The resume token, for the customer's tab only: the next page resumes with it."""


class AgentJoinedNotice(_Message, tag="agent_joined"):
    pass


class SnapshotRequest(_Message, tag="snapshot"):
    """Take a full snapshot now: an agent view is being (re)built."""


class Hello(_Message, tag="hello"):
    """First frame to an agent console: who it is and its live session, if any."""

    agent: str
    session: SessionInfo | None


class Joined(_Message, tag="joined"):
    session: SessionInfo


class EndedNotice(_Message, tag="ended"):
    reason: str
    text: str


class CustomerAwayNotice(_Message, tag="customer_away"):
    """The customer's page is gone for now: loading another page or reconnecting."""


class CustomerBackNotice(_Message, tag="customer_back"):
    """The customer's page is back; its snapshot follows."""


class WriteRequest(_Message, tag="write_request"):
    """Ask the customer whether the agent may act on the page."""


class WriteDeclined(_Message, tag="write_declined"):
    text: str


class ModeNotice(_Message, tag="mode"):
    """The session's mode changed; ``by`` is "agent" or "customer"."""

    mode: str
    by: str


class RestrictionsNotice(_Message, tag="restrictions"):
    """The site's DOM restrictions (core.restrictions wire format), on start and on change."""

    restrictions: dict[str, object]


class ErrorNotice(_Message, tag="error"):
    code: str
    text: str


# The web chat, from the server ------------------------------------------------------

WireMessage = dict[str, object]
"""A chat message as both sides see it: id, sender, author, text, session, at."""
WireChat = dict[str, object]
"""A chat as the console lists it: id, site, customer, agent, state, at."""


class ChatNotice(_Message, tag="chat"):
    """To the customer: the chat it started or resumed, with its messages.

    ``token`` only when the chat starts: the tab keeps it to resume the chat and to
    start a co-browse session bound to it.
    """

    id: str
    state: Literal["queued", "active", "ended"]
    agent: str | None
    messages: list[WireMessage]
    token: str | None = None
    text: str | None = None


class ChatAccepted(_Message, tag="chat_accepted"):
    """To the customer: an agent accepted the chat."""

    id: str
    agent: str


class ChatMessageNotice(_Message, tag="chat_message"):
    id: str
    message: WireMessage


class ChatEnded(_Message, tag="chat_ended"):
    """The chat ended; ``by`` is "customer" or "agent", ``text`` says it in words."""

    id: str
    by: str
    text: str


class ChatsNotice(_Message, tag="chats"):
    """To the console: the waiting queue and the agent's own open chats."""

    queue: list[WireChat]
    mine: list[WireChat]


class ChatHistoryNotice(_Message, tag="chat_history"):
    """To the console: one of the agent's chats and its messages."""

    chat: WireChat
    messages: list[WireMessage]


ServerMessage = (
    ChatNotice
    | ChatAccepted
    | ChatMessageNotice
    | ChatEnded
    | ChatsNotice
    | ChatHistoryNotice
    | SessionStarted
    | AgentJoinedNotice
    | SnapshotRequest
    | Hello
    | Joined
    | EndedNotice
    | ErrorNotice
    | WriteRequest
    | WriteDeclined
    | ModeNotice
    | RestrictionsNotice
    | CustomerAwayNotice
    | CustomerBackNotice
)

_encoder = msgspec.json.Encoder()


def encode(message: ServerMessage) -> str:
    return _encoder.encode(message).decode()


def ended(reason: str, text: str) -> str:
    return encode(EndedNotice(v=1, reason=reason, text=text))


def restrictions(rules: Mapping[str, object]) -> str:
    return encode(RestrictionsNotice(v=1, restrictions=dict(rules)))


def error(code: str, text: str) -> str:
    return encode(ErrorNotice(v=1, code=code, text=text))
