"""The customer chat: websocket protocol, conversation service, tokens, event hub."""
