package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Proxy is a TCP proxy between a branch's agent and its broker; cutting it is
// how the simulator takes a branch's WAN down.
type Proxy struct {
	Branch   string
	Listen   string
	Upstream string

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]struct{}
}

// Outage cuts a branch's WAN At an offset of the simulated day, For a while.
type Outage struct {
	Branch string
	At     time.Duration
	For    time.Duration
}

// SetDown cuts (true) or restores (false) the link; cutting closes every open
// connection and refuses new ones, as a dead WAN does.
func (p *Proxy) SetDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			_ = c.Close()
		}
	}
}

// Serve accepts connections until ctx ends.
func (p *Proxy) Serve(ctx context.Context, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", p.Listen)
	if err != nil {
		return err
	}
	p.conns = map[net.Conn]struct{}{}
	go func() { <-ctx.Done(); _ = ln.Close() }()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		up, err := net.DialTimeout("tcp", p.Upstream, 5*time.Second)
		if err != nil {
			p.mu.Unlock()
			logger.Warn("proxy upstream unreachable", "branch", p.Branch, "err", err)
			_ = c.Close()
			continue
		}
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go p.pipe(c, up)
	}
}

func (p *Proxy) pipe(a, b net.Conn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) { _, _ = io.Copy(dst, src); done <- struct{}{} }
	go cp(a, b)
	go cp(b, a)
	<-done
	_ = a.Close()
	_ = b.Close()
	p.mu.Lock()
	delete(p.conns, a)
	delete(p.conns, b)
	p.mu.Unlock()
}
