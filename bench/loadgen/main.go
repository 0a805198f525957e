// sybench measures what wrk cannot: sequential overhead in interleaved rounds (median of round
// medians), streaming time to first token and inter-chunk gaps, and open-loop constant-rate load
// (for the soak). Closed-loop throughput of non-streaming requests is wrk's job.
//
//	sybench seq    -targets FILE [-stream] -rounds 7 -per-round 25 -warmup 15
//	sybench load   -targets FILE [-stream] -c 10 -duration 10s
//	sybench rate   -targets FILE -rate 100 -duration 20m -report-every 1m
//
// FILE is a JSON list of {"name", "url", "key", "model", "dialect"}; "seq" interleaves them round
// by round (in a shuffled order each round) and the others use the first one. "dialect" is
// "anthropic" for Anthropic's Messages API (the url is then /v1/messages), else OpenAI's chat
// completions. Results go to stdout as JSON.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type target struct {
	Name    string `json:"name"`
	URL     string `json:"url"`
	Key     string `json:"key"`
	Model   string `json:"model"`
	Dialect string `json:"dialect"`
}

func (t target) anthropic() bool { return t.Dialect == "anthropic" }

// sample is one request's timings, in milliseconds.
type sample struct {
	ok     bool
	total  float64
	ttft   float64   // first content token (stream only)
	gaps   []float64 // between consecutive content chunks (stream only)
	chunks int
	err    string
}

var reqSeq atomic.Int64

func newClient(conns int) *http.Client {
	tr := &http.Transport{
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		MaxConnsPerHost:     0,
		IdleConnTimeout:     5 * time.Minute,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

func body(t target, stream bool) []byte {
	// Each prompt is unique (index and timestamp) so that no cache can answer it.
	n := reqSeq.Add(1)
	prompt := "req " + strconv.FormatInt(n, 10) + " at " + strconv.FormatInt(time.Now().UnixNano(), 10) + ": say hello in one short sentence."
	m := map[string]any{
		"model":      t.Model,
		"messages":   []map[string]string{{"role": "user", "content": prompt}},
		"max_tokens": 64,
	}
	if stream {
		m["stream"] = true
		if !t.anthropic() {
			m["stream_options"] = map[string]bool{"include_usage": true}
		}
	}
	b, _ := json.Marshal(m)
	return b
}

type chunkJSON struct {
	Choices []struct {
		Delta struct {
			Content string `json:"content"`
		} `json:"delta"`
	} `json:"choices"`
}

// eventJSON is a Messages API stream event: content arrives in content_block_delta text deltas.
type eventJSON struct {
	Type  string `json:"type"`
	Delta struct {
		Text string `json:"text"`
	} `json:"delta"`
}

// content tells what a stream's data line carries: whether it has content, and whether it ends
// the stream ([DONE] for chat, message_stop for messages).
func content(t target, data []byte) (bool, bool) {
	if t.anthropic() {
		var ev eventJSON
		if json.Unmarshal(data, &ev) != nil {
			return false, false
		}
		return ev.Type == "content_block_delta" && ev.Delta.Text != "", ev.Type == "message_stop"
	}
	if bytes.Equal(data, []byte("[DONE]")) {
		return false, true
	}
	var ch chunkJSON
	return json.Unmarshal(data, &ch) == nil && len(ch.Choices) > 0 && ch.Choices[0].Delta.Content != "", false
}

func do(c *http.Client, t target, stream bool) sample {
	req, _ := http.NewRequest(http.MethodPost, t.URL, bytes.NewReader(body(t, stream)))
	req.Header.Set("Content-Type", "application/json")
	if t.anthropic() {
		req.Header.Set("anthropic-version", "2023-06-01")
		if t.Key != "" {
			req.Header.Set("x-api-key", t.Key)
		}
	} else if t.Key != "" {
		req.Header.Set("Authorization", "Bearer "+t.Key)
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return sample{err: err.Error(), total: ms(time.Since(start))}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return sample{err: fmt.Sprintf("HTTP %d: %s", resp.StatusCode, b), total: ms(time.Since(start))}
	}
	if !stream {
		b, err := io.ReadAll(resp.Body)
		total := ms(time.Since(start))
		if err != nil {
			return sample{err: err.Error(), total: total}
		}
		want := []byte(`"choices"`)
		if t.anthropic() {
			want = []byte(`"content"`)
		}
		if !bytes.Contains(b, want) {
			return sample{err: "answer without content: " + string(b[:min(len(b), 200)]), total: total}
		}
		return sample{ok: true, total: total}
	}
	s := sample{}
	r := bufio.NewReaderSize(resp.Body, 16384)
	var last time.Time
	done := false
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			now := time.Now()
			line = bytes.TrimSpace(line)
			if bytes.HasPrefix(line, []byte("data:")) {
				has, end := content(t, bytes.TrimSpace(line[5:]))
				done = done || end
				if has {
					if s.chunks == 0 {
						s.ttft = ms(now.Sub(start))
					} else {
						s.gaps = append(s.gaps, ms(now.Sub(last)))
					}
					last = now
					s.chunks++
				}
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.err = err.Error()
			}
			break
		}
	}
	s.total = ms(time.Since(start))
	switch {
	case s.err != "":
	case !done:
		s.err = "stream ended without its last event"
	case s.chunks == 0:
		s.err = "stream without content"
	default:
		s.ok = true
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

func pct(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	// nearest rank
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}

func dist(xs []float64) map[string]any {
	if len(xs) == 0 {
		return map[string]any{"n": 0}
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	sum := 0.0
	for _, x := range s {
		sum += x
	}
	return map[string]any{
		"n": len(s), "mean": round3(sum / float64(len(s))),
		"p50": round3(pct(s, 50)), "p90": round3(pct(s, 90)), "p95": round3(pct(s, 95)),
		"p99": round3(pct(s, 99)), "max": round3(s[len(s)-1]), "min": round3(s[0]),
	}
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// summary turns samples into the JSON the orchestrator reads.
func summary(samples []sample, stream bool, wall time.Duration) map[string]any {
	var totals, ttfts, gaps []float64
	var errs []string
	errCount, chunks := 0, 0
	for _, s := range samples {
		if !s.ok {
			errCount++
			if len(errs) < 3 {
				errs = append(errs, s.err)
			}
			continue
		}
		totals = append(totals, s.total)
		if stream {
			ttfts = append(ttfts, s.ttft)
			gaps = append(gaps, s.gaps...)
			chunks += s.chunks
		}
	}
	out := map[string]any{
		"requests": len(samples), "errors": errCount, "error_samples": errs,
		"latency_ms": dist(totals),
	}
	if wall > 0 {
		out["seconds"] = round3(wall.Seconds())
		out["rps"] = round3(float64(len(totals)) / wall.Seconds())
	}
	if stream {
		out["ttft_ms"] = dist(ttfts)
		out["gap_ms"] = dist(gaps)
		if ok := len(totals); ok > 0 {
			out["content_chunks_per_response"] = round3(float64(chunks) / float64(ok))
		}
	}
	return out
}

func loadTargets(path string) []target {
	b, err := os.ReadFile(path)
	if err != nil {
		fail(err)
	}
	var ts []target
	if err := json.Unmarshal(b, &ts); err != nil {
		fail(err)
	}
	if len(ts) == 0 {
		fail(errors.New("no targets"))
	}
	return ts
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "sybench:", err)
	os.Exit(1)
}

func emit(v any) {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(v); err != nil {
		fail(err)
	}
}

// seq: concurrency 1, every target in every round (shuffled order), after a warmup per target.
func cmdSeq(args []string) {
	fs := flag.NewFlagSet("seq", flag.ExitOnError)
	file := fs.String("targets", "", "targets JSON file")
	stream := fs.Bool("stream", false, "stream the answers (SSE)")
	rounds := fs.Int("rounds", 7, "interleaved rounds")
	per := fs.Int("per-round", 25, "requests per target per round")
	warm := fs.Int("warmup", 15, "warmup requests per target (not recorded)")
	_ = fs.Parse(args)
	ts := loadTargets(*file)
	c := newClient(2)
	for _, t := range ts {
		for i := 0; i < *warm; i++ {
			do(c, t, *stream)
		}
	}
	all := make(map[string][]sample)
	roundMedians := make(map[string][]float64)
	roundTTFT := make(map[string][]float64)
	order := make([]int, len(ts))
	for i := range order {
		order[i] = i
	}
	for r := 0; r < *rounds; r++ {
		rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, idx := range order {
			t := ts[idx]
			var lat, ttft []float64
			for i := 0; i < *per; i++ {
				s := do(c, t, *stream)
				all[t.Name] = append(all[t.Name], s)
				if s.ok {
					lat = append(lat, s.total)
					ttft = append(ttft, s.ttft)
				}
			}
			if len(lat) > 0 {
				roundMedians[t.Name] = append(roundMedians[t.Name], median(lat))
				roundTTFT[t.Name] = append(roundTTFT[t.Name], median(ttft))
			}
		}
	}
	out := map[string]any{}
	for _, t := range ts {
		s := summary(all[t.Name], *stream, 0)
		rm := append([]float64(nil), roundMedians[t.Name]...)
		sort.Float64s(rm)
		s["round_medians_ms"] = roundMedians[t.Name]
		s["median_of_round_medians_ms"] = round3(median(rm))
		if len(rm) > 0 {
			s["round_median_iqr_ms"] = round3(pct(rm, 75) - pct(rm, 25))
		}
		if *stream {
			s["median_of_round_ttft_medians_ms"] = round3(median(roundTTFT[t.Name]))
		}
		out[t.Name] = s
	}
	emit(map[string]any{"mode": "seq", "stream": *stream, "rounds": *rounds, "per_round": *per, "targets": out})
}

// load: closed loop, c workers each sending back-to-back requests for a fixed time.
func cmdLoad(args []string) {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	file := fs.String("targets", "", "targets JSON file (first one is used)")
	stream := fs.Bool("stream", false, "stream the answers (SSE)")
	conc := fs.Int("c", 10, "concurrency")
	dur := fs.Duration("duration", 10*time.Second, "measured time")
	warm := fs.Duration("warmup", 2*time.Second, "unrecorded load before measuring")
	_ = fs.Parse(args)
	t := loadTargets(*file)[0]
	c := newClient(*conc)
	run := func(d time.Duration) ([]sample, time.Duration) {
		var mu sync.Mutex
		var all []sample
		stop := time.Now().Add(d)
		var wg sync.WaitGroup
		start := time.Now()
		for w := 0; w < *conc; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine []sample
				for time.Now().Before(stop) {
					mine = append(mine, do(c, t, *stream))
				}
				mu.Lock()
				all = append(all, mine...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		return all, time.Since(start)
	}
	if *warm > 0 {
		run(*warm)
	}
	samples, wall := run(*dur)
	out := summary(samples, *stream, wall)
	out["mode"] = "load"
	out["concurrency"] = *conc
	out["target"] = t.Name
	emit(out)
}

// rate: open loop at a constant arrival rate (no coordinated omission); a request that cannot
// start because max-inflight are already open counts as dropped. Prints one JSON line per
// report interval on stderr and the whole-run summary on stdout.
func cmdRate(args []string) {
	fs := flag.NewFlagSet("rate", flag.ExitOnError)
	file := fs.String("targets", "", "targets JSON file (first one is used)")
	rate := fs.Float64("rate", 100, "requests per second")
	dur := fs.Duration("duration", time.Minute, "how long")
	every := fs.Duration("report-every", time.Minute, "interval of the progress lines")
	maxIn := fs.Int("max-inflight", 512, "most requests open at once")
	_ = fs.Parse(args)
	t := loadTargets(*file)[0]
	c := newClient(*maxIn)
	var mu sync.Mutex
	var window, all []sample
	var dropped, windowDropped int
	sem := make(chan struct{}, *maxIn)
	var wg sync.WaitGroup
	interval := time.Duration(float64(time.Second) / *rate)
	start := time.Now()
	next := start
	lastReport := start
	for time.Since(start) < *dur {
		now := time.Now()
		if now.Sub(lastReport) >= *every {
			mu.Lock()
			line := summary(window, false, now.Sub(lastReport))
			line["elapsed_s"] = round3(now.Sub(start).Seconds())
			line["dropped"] = windowDropped
			window, windowDropped = nil, 0
			mu.Unlock()
			b, _ := json.Marshal(line)
			fmt.Fprintln(os.Stderr, string(b))
			lastReport = now
		}
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
		next = next.Add(interval)
		select {
		case sem <- struct{}{}:
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := do(c, t, false)
				<-sem
				mu.Lock()
				window = append(window, s)
				all = append(all, s)
				mu.Unlock()
			}()
		default:
			mu.Lock()
			dropped++
			windowDropped++
			mu.Unlock()
		}
	}
	wg.Wait()
	out := summary(all, false, time.Since(start))
	out["mode"] = "rate"
	out["target_rate"] = *rate
	out["dropped"] = dropped
	emit(out)
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: sybench seq|load|rate [flags]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "seq":
		cmdSeq(os.Args[2:])
	case "load":
		cmdLoad(os.Args[2:])
	case "rate":
		cmdRate(os.Args[2:])
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", os.Args[1], strings.Join(os.Args[2:], " "))
		os.Exit(2)
	}
}
