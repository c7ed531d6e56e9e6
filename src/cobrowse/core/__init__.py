"""Pure logic: no asyncio, no network, no SQL. Every rule here is a fast unit test."""
