"""Per-tenant IP lists: their records and inputs, the use-cases, and the enrichment cache."""
