"""The access model (Zephr's semantics): entitlements, bundles, meters, credits and grants.

`model` defines them, `periods` does the calendar arithmetic, `catalog` resolves what a set
of bundles holds, `decide` answers access decisions and computes a session's `access`
part, `admin` changes the definitions. docs/access.md explains the model.
"""
