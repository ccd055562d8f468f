"""The Intercom Inbox app (Canvas Kit, conversation details): one module per screen.

`dispatch` routes each canvas request to a screen by component id (its table lists them all);
screens read iTop through `itop/` and post in the conversation through `messages`; whatever must
outlive the request (a late note or reply, the history copy) goes to the sync's durable jobs.
"""
