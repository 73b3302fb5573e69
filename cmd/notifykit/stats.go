package main

import (
	"fmt"
	"io"
	"slices"
	"sync"
	"text/tabwriter"
	"time"
)

// sourceStats counts what one sandbox source sent and what came out of the
// SDK, so the summary can prove that nothing was lost.
type sourceStats struct {
	name        string
	unavailable string // why the source could not run; empty when it ran

	mu         sync.Mutex
	sentAt     map[string]time.Time // id → when the traffic generator sent it
	handled    map[string]bool      // ids whose handler succeeded at least once
	deadLetter map[string]bool      // ids the SDK routed to the error destination
	events     int                  // handler calls that succeeded, duplicates included
	failures   int                  // handler calls that failed
	retries    int                  // redeliveries of an id seen before
	attempts   map[string]int
	latencies  []time.Duration // sent → handled, first success per id
}

func newSourceStats(name string) *sourceStats {
	return &sourceStats{
		name:       name,
		sentAt:     make(map[string]time.Time),
		handled:    make(map[string]bool),
		deadLetter: make(map[string]bool),
		attempts:   make(map[string]int),
	}
}

// sent records that the generator produced id and expects it back.
func (s *sourceStats) sent(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sentAt[id]; !ok {
		s.sentAt[id] = time.Now()
	}
}

// attempt records one handler call for id and its outcome.
func (s *sourceStats) attempt(id string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts[id]++
	if s.attempts[id] > 1 {
		s.retries++
	}
	if err != nil {
		s.failures++
		return
	}
	s.events++
	if !s.handled[id] {
		s.handled[id] = true
		if at, ok := s.sentAt[id]; ok {
			s.latencies = append(s.latencies, time.Since(at))
		}
	}
}

// deadLettered records that the SDK gave up on id and put it where an
// operator sees it (error queue, dead-letter callback).
func (s *sourceStats) deadLettered(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deadLetter[id] = true
}

// lost counts sent ids that were neither handled nor dead-lettered.
func (s *sourceStats) lost() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id := range s.sentAt {
		if !s.handled[id] && !s.deadLetter[id] {
			n++
		}
	}
	return n
}

// settled reports whether every sent id was handled or dead-lettered.
func (s *sourceStats) settled() bool { return s.lost() == 0 }

func (s *sourceStats) handledCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.handled)
}

func (s *sourceStats) percentile(p float64) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.latencies) == 0 {
		return 0
	}
	l := slices.Clone(s.latencies)
	slices.Sort(l)
	i := int(p * float64(len(l)-1))
	return l[i]
}

// writeSummary prints the per-source table and, last, the machine-readable
// SANDBOX line. It reports whether the run succeeded: every available
// source delivered events and nothing was lost.
func writeSummary(w io.Writer, order []string, stats map[string]*sourceStats) bool {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "source\tevents\tfailures\tretries\terror-queue\tlost\tp50\tp99\t")
	ok := true
	totalLost := 0
	final := "SANDBOX"
	for _, name := range order {
		s := stats[name]
		if s.unavailable != "" {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t-\t\n", name)
			final += fmt.Sprintf(" %s=unavailable", name)
			continue
		}
		lost := s.lost()
		totalLost += lost
		s.mu.Lock()
		events, failures, retries, dl := s.events, s.failures, s.retries, len(s.deadLetter)
		s.mu.Unlock()
		if events == 0 {
			ok = false
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t\n", name, events, failures, retries, dl, lost,
			roundLatency(s.percentile(0.50)), roundLatency(s.percentile(0.99)))
		final += fmt.Sprintf(" %s=%d", name, events)
	}
	_ = tw.Flush()
	for _, name := range order {
		if u := stats[name].unavailable; u != "" {
			fmt.Fprintf(w, "%s not available: %s\n", name, u)
		}
	}
	if totalLost > 0 {
		ok = false
	}
	fmt.Fprintf(w, "%s lost=%d\n", final, totalLost)
	return ok
}

func roundLatency(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}
