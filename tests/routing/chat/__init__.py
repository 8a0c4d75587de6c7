"""Tests of the chat: messages, the expert's inbox and sockets."""
