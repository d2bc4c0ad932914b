package origin

import (
	"container/list"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// fetch downloads block b with a range request and checks that the
// server answered for the same version of the file.
func (o *httpObject) fetch(b int64) ([]byte, error) {
	first := b * o.block
	last := min(first+o.block, o.info.size) - 1
	hdr := identityHeader()
	hdr.Set("Range", "bytes="+strconv.FormatInt(first, 10)+"-"+strconv.FormatInt(last, 10))
	if o.info.etag != "" && !strings.HasPrefix(o.info.etag, "W/") {
		hdr.Set("If-Range", o.info.etag) // a changed file gets a 200, not mixed bytes
	}
	resp, cancel, err := o.h.do(o.ctx, http.MethodGet, o.url, hdr)
	if err != nil {
		return nil, err
	}
	defer cancel()
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusPartialContent:
		return o.readPartial(resp, first, last)
	case http.StatusOK:
		return o.readWhole(resp)
	case http.StatusRequestedRangeNotSatisfiable:
		return nil, o.changedErr("range not satisfiable")
	}
	return nil, statusErr("GET "+o.url, resp.StatusCode)
}

// readPartial reads a 206 response for bytes first-last.
func (o *httpObject) readPartial(resp *http.Response, first, last int64) ([]byte, error) {
	if err := o.checkValidators(resp); err != nil {
		return nil, err
	}
	f, l, total, err := parseContentRange(resp.Header.Get("Content-Range"))
	if err != nil {
		return nil, fmt.Errorf("origin: GET %s: %w: %w", o.url, ErrUnavailable, err)
	}
	if total >= 0 && total != o.info.size {
		return nil, o.changedErr("size " + strconv.FormatInt(total, 10))
	}
	if f != first || l != last {
		return nil, fmt.Errorf("origin: GET %s: asked bytes %d-%d, got %d-%d: %w",
			o.url, first, last, f, l, ErrUnavailable)
	}
	return o.readExactly(resp, last-first+1)
}

// readWhole reads a 200 response to a range request: acceptable only for
// an unchanged file that fits in one block.
func (o *httpObject) readWhole(resp *http.Response) ([]byte, error) {
	if err := o.checkValidators(resp); err != nil {
		return nil, err
	}
	if o.info.size > o.block {
		return nil, fmt.Errorf("origin: GET %s: server ignores Range: %w", o.url, ErrUnavailable)
	}
	if resp.ContentLength >= 0 && resp.ContentLength != o.info.size {
		return nil, o.changedErr("size " + strconv.FormatInt(resp.ContentLength, 10))
	}
	return o.readExactly(resp, o.info.size)
}

// readExactly reads exactly n body bytes and no more.
func (o *httpObject) readExactly(resp *http.Response, n int64) ([]byte, error) {
	buf := make([]byte, n)
	got, err := io.ReadFull(resp.Body, buf)
	o.h.bytes.Add(int64(got))
	if err != nil {
		return nil, wrapNetErr("read "+o.url, err)
	}
	var one [1]byte
	if extra, _ := resp.Body.Read(one[:]); extra > 0 {
		return nil, o.changedErr("body longer than expected")
	}
	return buf, nil
}

// checkValidators fails when the response carries an ETag or
// Last-Modified different from the ones seen at Open.
func (o *httpObject) checkValidators(resp *http.Response) error {
	if et := resp.Header.Get("ETag"); o.info.etag != "" && et != "" && et != o.info.etag {
		return o.changedErr("ETag " + truncate(et, 80))
	}
	if lm := resp.Header.Get("Last-Modified"); o.info.etag == "" && o.info.lastMod != "" && lm != "" && lm != o.info.lastMod {
		return o.changedErr("Last-Modified " + lm)
	}
	return nil
}

func (o *httpObject) changedErr(why string) error {
	return fmt.Errorf("origin: GET %s: %s: %w: %w", o.url, why, ErrUnavailable, ErrChanged)
}

// blockLRU keeps the most recently used blocks of one object. The caller
// synchronises access.
type blockLRU struct {
	max   int
	order *list.List // front = most recent; values are *lruEntry
	items map[int64]*list.Element
}

type lruEntry struct {
	block int64
	data  []byte
}

func newBlockLRU(maxBlocks int) *blockLRU {
	return &blockLRU{max: maxBlocks, order: list.New(), items: make(map[int64]*list.Element)}
}

func (c *blockLRU) get(b int64) ([]byte, bool) {
	e, ok := c.items[b]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*lruEntry).data, true
}

func (c *blockLRU) put(b int64, data []byte) {
	if e, ok := c.items[b]; ok {
		e.Value.(*lruEntry).data = data
		c.order.MoveToFront(e)
		return
	}
	c.items[b] = c.order.PushFront(&lruEntry{block: b, data: data})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*lruEntry).block)
	}
}

func (c *blockLRU) clear() {
	c.order.Init()
	clear(c.items)
}
