"""The resource proxy: page resources for the agent's mirror, fetched by cobrowse."""
