"""The API's JSON shapes, shared by the server and the typed client.

Names follow the Seqera Platform OpenAPI spec (camelCase, same envelopes), so existing
Seqera tooling can read them.
"""
