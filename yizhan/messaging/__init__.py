"""The messaging interface. Business code talks to `Messenger`, never to paho directly."""

from yizhan.messaging.base import Handler, Message, Messenger

__all__ = ["Handler", "Message", "Messenger"]
