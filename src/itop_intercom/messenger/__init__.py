"""The end users' chat in iTop: what the iTop module asks, and the Messenger boot it gets back.

The iTop module (in `itop-module/`) calls `POST /itop/messenger/boot` server to server, signed
with the one shared key; this package decides whether the logged-in iTop user gets the Intercom
Messenger, for which workspace, and signs the user's identity with that workspace's Messenger
secret. It also tells the Inbox whether a contact's iTop identity can be trusted.
"""
