"""The one in-process cache: bounded, least recently used first out, optional expiry."""

import threading

from voxify.cache import LruCache


def test_least_recently_used_goes_first():
    cache: LruCache[str, int] = LruCache(max_entries=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3
    assert len(cache) == 2


def test_entries_expire_after_their_time(monkeypatch):
    now = [100.0]
    monkeypatch.setattr("voxify.clock.monotonic", lambda: now[0])
    cache: LruCache[str, str] = LruCache(max_entries=4, ttl_seconds=10)
    cache.put("k", "v")
    now[0] += 9.9
    assert cache.get("k") == "v"
    now[0] += 0.2
    assert cache.get("k") is None


def test_get_or_load_loads_once_and_clear_forgets():
    loads = []
    cache: LruCache[str, str] = LruCache(max_entries=4)

    def load() -> str:
        loads.append(1)
        return "value"

    assert cache.get_or_load("k", load) == cache.get_or_load("k", load) == "value"
    assert len(loads) == 1
    cache.discard("k")
    cache.get_or_load("k", load)
    cache.clear()
    cache.get_or_load("k", load)
    assert len(loads) == 3


def test_concurrent_use_keeps_the_bound():
    cache: LruCache[int, int] = LruCache(max_entries=8)

    def hammer(offset: int) -> None:
        for i in range(500):
            cache.put(offset + i, i)
            cache.get(offset + i // 2)

    threads = [threading.Thread(target=hammer, args=(n * 1000,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(cache) == 8
