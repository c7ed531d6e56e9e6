"""The single-node resource cache: bounded in bytes, least recently used out first,
entries gone once stale."""

from __future__ import annotations

from cobrowse.proxy.cache import ENTRY_OVERHEAD_BYTES, CachedResource, MemoryResourceCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def image(size: int, expires_at: float = 2000.0) -> CachedResource:
    return CachedResource(
        hops=("https://shop.example.com/a.png",),
        media_type="image/png",
        body=b"x" * size,
        stylesheet=None,
        expires_at=expires_at,
    )


async def test_an_entry_is_served_until_it_expires() -> None:
    clock = Clock()
    cache = MemoryResourceCache(1 << 20, clock)
    await cache.put("a", image(10, expires_at=1060.0))
    assert await cache.get("a") == image(10, expires_at=1060.0)
    clock.now = 1060.0
    assert await cache.get("a") is None
    assert len(cache) == 0
    assert cache.bytes == 0


async def test_the_least_recently_used_entries_go_first_when_the_budget_is_reached() -> None:
    entry = 1000
    budget = 4 * (entry + ENTRY_OVERHEAD_BYTES + 40)
    cache = MemoryResourceCache(budget, Clock())
    for key in ("a", "b", "c"):
        await cache.put(key, image(entry))
    assert await cache.get("a") is not None  # "b" is now the least recently used
    await cache.put("d", image(entry))
    await cache.put("e", image(entry))
    assert await cache.get("b") is None
    assert all([await cache.get(key) for key in ("a", "c", "d", "e")])
    assert cache.bytes <= budget


async def test_an_entry_over_a_quarter_of_the_budget_is_not_kept() -> None:
    cache = MemoryResourceCache(4000, Clock())
    await cache.put("small", image(100))
    await cache.put("big", image(1000))
    assert await cache.get("big") is None
    assert await cache.get("small") is not None


async def test_putting_a_key_again_replaces_it_and_its_size() -> None:
    cache = MemoryResourceCache(1 << 20, Clock())
    await cache.put("a", image(500))
    await cache.put("a", image(100))
    assert await cache.get("a") == image(100)
    assert cache.bytes == image(100).size + len("a") + ENTRY_OVERHEAD_BYTES


async def test_a_zero_budget_keeps_nothing() -> None:
    cache = MemoryResourceCache(0, Clock())
    await cache.put("a", image(1))
    assert await cache.get("a") is None
