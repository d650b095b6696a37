"""GraphQL over HTTP: request parsing, content negotiation, persisted documents, the endpoint."""
