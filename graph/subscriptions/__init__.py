"""Live updates: subscriptions over graphql-transport-ws, fed by a broker after each commit."""
