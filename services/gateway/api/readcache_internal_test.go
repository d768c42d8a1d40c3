package api

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestReadCacheCollapsesConcurrentReadsAndServesFromCache(t *testing.T) {
	c := newReadCache[int](time.Hour)
	var calls atomic.Int32
	release := make(chan struct{})
	fetch := func(context.Context) (int, error) {
		calls.Add(1)
		<-release
		return 42, nil
	}
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			if v, err := c.get(context.Background(), "k", fetch); err != nil || v != 42 {
				t.Errorf("got %d, %v", v, err)
			}
		})
	}
	// Let the first caller's fetch finish only once every caller is waiting on it or the cache.
	deadline := time.Now().Add(10 * time.Second)
	for calls.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no fetch started")
		}
		time.Sleep(time.Millisecond) // polling interval of a deadline-bounded wait
	}
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("100 concurrent reads made %d fetches, want 1", n)
	}
	if v, _ := c.get(context.Background(), "k", fetch); v != 42 || calls.Load() != 1 {
		t.Fatalf("cached read fetched again (calls %d)", calls.Load())
	}
	c.clear()
	if _, _ = c.get(context.Background(), "k", fetch); calls.Load() != 2 {
		t.Fatalf("read after clear did not fetch (calls %d)", calls.Load())
	}
}

func TestReadCacheNeverCachesErrorsAndExpires(t *testing.T) {
	c := newReadCache[int](time.Nanosecond)
	var calls int
	boom := errors.New("down")
	fetch := func(context.Context) (int, error) {
		calls++
		if calls == 1 {
			return 0, boom
		}
		return calls, nil
	}
	if _, err := c.get(context.Background(), "k", fetch); !errors.Is(err, boom) {
		t.Fatalf("want the error, got %v", err)
	}
	v1, _ := c.get(context.Background(), "k", fetch)
	v2, _ := c.get(context.Background(), "k", fetch)
	if v1 != 2 || v2 != 3 {
		t.Fatalf("expired entries must be fetched again: %d %d", v1, v2)
	}
	var off *readCache[int] // WithReadCache(0) leaves the caches nil
	if v, _ := off.get(context.Background(), "k", fetch); v != 4 {
		t.Fatalf("a disabled cache must always fetch: %d", v)
	}
}
