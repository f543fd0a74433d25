"""What guards every request before and after its view: security headers, CORS, allowed hosts
and the public URL, per-client rate limits, statement budgets by request kind, and server
paths cut from messages.
"""
