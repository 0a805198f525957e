// mockllm is the benchmark's upstream: an OpenAI-compatible chat completions server on loopback
// that answers instantly and deterministically by default, so that it is never the bottleneck of a
// gateway benchmark (a Go net/http server does tens of thousands of requests per second here). It
// also answers Anthropic's Messages API (POST /v1/messages, JSON or its SSE events) with the same
// text and usage, for deployments of the anthropic/ provider.
//
// Knobs (flags set the defaults; a model name can override them per request, see below):
//
//	-latency 0s -jitter 0s       time before the answer (non-stream) or the first chunk (stream)
//	-fail-percent 0              share of requests answered with a 500 error body
//	-rl-period 0s -rl-window 0s  429 windows: the first rl-window of every rl-period answers 429
//	-chunks 20 -stream-time 0s   SSE: content chunks per answer, spread evenly over stream-time
//	-otlp 127.0.0.1:PORT         also run a stand-in OTLP/HTTP trace sink (accepts and counts)
//
// Per-request overrides ride in the model name after '~', as key=value pairs separated by '~':
// "mock~chunks=20~stream_ms=100~latency_ms=5~jitter_ms=1~fail_pct=2". Gateways pass the upstream
// model name through untouched, so one mock serves several benchmark models.
//
// GET /__stats returns request counters (also the OTLP sink's) and POST /__reset zeroes them.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// A fixed answer and fixed usage, so every gateway bills and returns the same thing.
const (
	promptTokens     = 25
	completionTokens = 35
)

var words = strings.Fields("Switchyard benchmark mock answer: a fixed text of thirty one tokens so every gateway returns the same bytes and bills the same usage on each call made during the run.")

type knobs struct {
	latency    time.Duration
	jitter     time.Duration
	failPct    float64
	chunks     int
	streamTime time.Duration
}

type counters struct {
	requests, streams, failures, ratelimited, badRequests atomic.Int64
	otlpRequests, otlpBytes                               atomic.Int64
}

type server struct {
	defaults knobs
	rlPeriod time.Duration
	rlWindow time.Duration
	started  time.Time
	seq      atomic.Int64
	stats    counters
}

type messagesRequest struct {
	Model     string `json:"model"`
	Stream    bool   `json:"stream"`
	MaxTokens int    `json:"max_tokens"`
}

type chatRequest struct {
	Model         string `json:"model"`
	Stream        bool   `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

func (s *server) knobsFor(model string) knobs {
	k := s.defaults
	parts := strings.Split(model, "~")
	for _, p := range parts[1:] {
		key, val, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(val, 64)
		if err != nil {
			continue
		}
		switch key {
		case "latency_ms":
			k.latency = time.Duration(f * float64(time.Millisecond))
		case "jitter_ms":
			k.jitter = time.Duration(f * float64(time.Millisecond))
		case "fail_pct":
			k.failPct = f
		case "chunks":
			k.chunks = int(f)
		case "stream_ms":
			k.streamTime = time.Duration(f * float64(time.Millisecond))
		}
	}
	if k.chunks < 1 {
		k.chunks = 1
	}
	return k
}

func writeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	w.WriteHeader(status)
	body, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": nil}})
	_, _ = w.Write(body)
}

func (s *server) inRateLimitWindow() bool {
	if s.rlPeriod <= 0 || s.rlWindow <= 0 {
		return false
	}
	return time.Since(s.started)%s.rlPeriod < s.rlWindow
}

func sleepFor(k knobs) {
	d := k.latency
	if k.jitter > 0 {
		d += time.Duration(rand.Int64N(int64(k.jitter)))
	}
	if d > 0 {
		time.Sleep(d)
	}
}

func (s *server) chat(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "invalid_request_error", "use POST")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "unreadable body")
		return
	}
	var req chatRequest
	if err := json.Unmarshal(body, &req); err != nil || req.Model == "" {
		s.stats.badRequests.Add(1)
		writeError(w, http.StatusBadRequest, "invalid_request_error", "body must be JSON with a model")
		return
	}
	s.stats.requests.Add(1)
	k := s.knobsFor(req.Model)
	if s.inRateLimitWindow() {
		s.stats.ratelimited.Add(1)
		writeError(w, http.StatusTooManyRequests, "rate_limit_exceeded", "mock rate-limit window")
		return
	}
	if k.failPct > 0 && rand.Float64()*100 < k.failPct {
		s.stats.failures.Add(1)
		sleepFor(k)
		writeError(w, http.StatusInternalServerError, "server_error", "mock failure")
		return
	}
	id := "chatcmpl-mock-" + strconv.FormatInt(s.seq.Add(1), 10)
	created := time.Now().Unix()
	modelJSON, _ := json.Marshal(req.Model)
	sleepFor(k)
	if req.Stream {
		s.stats.streams.Add(1)
		s.stream(w, id, created, modelJSON, k, req.StreamOptions != nil && req.StreamOptions.IncludeUsage)
		return
	}
	var b bytes.Buffer
	b.Grow(640)
	fmt.Fprintf(&b, `{"id":%q,"object":"chat.completion","created":%d,"model":%s,"system_fingerprint":"fp_mock",`, id, created, modelJSON)
	fmt.Fprintf(&b, `"choices":[{"index":0,"message":{"role":"assistant","content":%q,"refusal":null},"logprobs":null,"finish_reason":"stop"}],`, strings.Join(words, " "))
	fmt.Fprintf(&b, `"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`, promptTokens, completionTokens, promptTokens+completionTokens)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	_, _ = w.Write(b.Bytes())
}

// stream writes OpenAI's SSE sequence: a role chunk, `chunks` content chunks (paced on a deadline
// schedule so the whole stream takes stream-time), a finish chunk, the usage chunk when asked
// for, and [DONE]. Each event is flushed on its own.
func (s *server) stream(w http.ResponseWriter, id string, created int64, modelJSON []byte, k knobs, includeUsage bool) {
	flusher, _ := w.(http.Flusher)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	prefix := fmt.Sprintf(`data: {"id":%q,"object":"chat.completion.chunk","created":%d,"model":%s,"system_fingerprint":"fp_mock","choices":[`, id, created, modelJSON)
	usageNull := ""
	if includeUsage {
		usageNull = `,"usage":null`
	}
	var b bytes.Buffer
	emit := func() {
		_, _ = w.Write(b.Bytes())
		b.Reset()
		if flusher != nil {
			flusher.Flush()
		}
	}
	b.WriteString(prefix + `{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]` + usageNull + "}\n\n")
	emit()
	start := time.Now()
	for i, piece := range pieces(k.chunks) {
		if k.streamTime > 0 && i > 0 {
			due := start.Add(k.streamTime * time.Duration(i) / time.Duration(k.chunks))
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
		}
		content, _ := json.Marshal(piece)
		b.WriteString(prefix + `{"index":0,"delta":{"content":` + string(content) + `},"logprobs":null,"finish_reason":null}]` + usageNull + "}\n\n")
		emit()
	}
	b.WriteString(prefix + `{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]` + usageNull + "}\n\n")
	if includeUsage {
		b.WriteString(prefix + fmt.Sprintf(`],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`+"\n\n", promptTokens, completionTokens, promptTokens+completionTokens))
	}
	b.WriteString("data: [DONE]\n\n")
	emit()
}

// messages answers Anthropic's Messages API: the same words and usage as chat, as one message or
// as the event sequence (message_start, ping, one text block of `chunks` deltas paced like chat's,
// message_delta with usage, message_stop).
func (s *server) messages(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeAnthropicError(w, http.StatusMethodNotAllowed, "invalid_request_error", "use POST")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeAnthropicError(w, http.StatusBadRequest, "invalid_request_error", "unreadable body")
		return
	}
	var req messagesRequest
	if err := json.Unmarshal(body, &req); err != nil || req.Model == "" || req.MaxTokens < 1 {
		s.stats.badRequests.Add(1)
		writeAnthropicError(w, http.StatusBadRequest, "invalid_request_error", "body must be JSON with a model and max_tokens")
		return
	}
	s.stats.requests.Add(1)
	k := s.knobsFor(req.Model)
	if s.inRateLimitWindow() {
		s.stats.ratelimited.Add(1)
		writeAnthropicError(w, http.StatusTooManyRequests, "rate_limit_error", "mock rate-limit window")
		return
	}
	if k.failPct > 0 && rand.Float64()*100 < k.failPct {
		s.stats.failures.Add(1)
		sleepFor(k)
		writeAnthropicError(w, http.StatusInternalServerError, "api_error", "mock failure")
		return
	}
	id := "msg_mock" + strconv.FormatInt(s.seq.Add(1), 10)
	modelJSON, _ := json.Marshal(req.Model)
	sleepFor(k)
	head := fmt.Sprintf(`{"id":%q,"type":"message","role":"assistant","model":%s,`, id, modelJSON)
	if !req.Stream {
		var b bytes.Buffer
		b.Grow(640)
		text, _ := json.Marshal(strings.Join(words, " "))
		b.WriteString(head + `"content":[{"type":"text","text":` + string(text) + `}],"stop_reason":"end_turn","stop_sequence":null,`)
		fmt.Fprintf(&b, `"usage":{"input_tokens":%d,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":%d}}`, promptTokens, completionTokens)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
		_, _ = w.Write(b.Bytes())
		return
	}
	s.stats.streams.Add(1)
	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	var b bytes.Buffer
	event := func(name, data string, flush bool) {
		b.WriteString("event: " + name + "\ndata: " + data + "\n\n")
		if flush {
			_, _ = w.Write(b.Bytes())
			b.Reset()
			if flusher != nil {
				flusher.Flush()
			}
		}
	}
	event("message_start", fmt.Sprintf(`{"type":"message_start","message":%s"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":%d,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}`, head, promptTokens), false)
	event("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`, false)
	event("ping", `{"type":"ping"}`, true)
	start := time.Now()
	for i, piece := range pieces(k.chunks) {
		if k.streamTime > 0 && i > 0 {
			due := start.Add(k.streamTime * time.Duration(i) / time.Duration(k.chunks))
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
		}
		text, _ := json.Marshal(piece)
		event("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":`+string(text)+`}}`, true)
	}
	event("content_block_stop", `{"type":"content_block_stop","index":0}`, false)
	event("message_delta", fmt.Sprintf(`{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":%d}}`, completionTokens), false)
	event("message_stop", `{"type":"message_stop"}`, true)
}

func writeAnthropicError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	body, _ := json.Marshal(map[string]any{"type": "error", "error": map[string]any{"type": typ, "message": msg}})
	_, _ = w.Write(body)
}

// pieces splits the fixed answer into n streamed pieces, as chat streams it.
func pieces(n int) []string {
	out := make([]string, n)
	per := len(words) / n
	for i := 0; i < n; i++ {
		if per == 0 {
			out[i] = words[i%len(words)] + " "
			continue
		}
		end := (i + 1) * per
		if i == n-1 {
			end = len(words)
		}
		out[i] = strings.Join(words[i*per:end], " ") + " "
	}
	return out
}

func (s *server) models(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"object":"list","data":[{"id":"mock","object":"model","created":0,"owned_by":"bench"}]}`))
}

func (s *server) statsHandler(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		s.stats.requests.Store(0)
		s.stats.streams.Store(0)
		s.stats.failures.Store(0)
		s.stats.ratelimited.Store(0)
		s.stats.badRequests.Store(0)
		s.stats.otlpRequests.Store(0)
		s.stats.otlpBytes.Store(0)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]int64{
		"requests":      s.stats.requests.Load(),
		"streams":       s.stats.streams.Load(),
		"failures":      s.stats.failures.Load(),
		"rate_limited":  s.stats.ratelimited.Load(),
		"bad_requests":  s.stats.badRequests.Load(),
		"otlp_requests": s.stats.otlpRequests.Load(),
		"otlp_bytes":    s.stats.otlpBytes.Load(),
	})
}

// otlp stands in for an OpenTelemetry collector: it accepts OTLP/HTTP exports (protobuf or
// JSON), counts them and answers an empty ExportTraceServiceResponse, which is all an exporter
// needs; the cost the gateway pays (serialising and posting spans) is the same as with a real one.
func (s *server) otlp(w http.ResponseWriter, r *http.Request) {
	n, _ := io.Copy(io.Discard, r.Body)
	s.stats.otlpRequests.Add(1)
	s.stats.otlpBytes.Add(n)
	if strings.Contains(r.Header.Get("Content-Type"), "json") {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("{}"))
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

func serve(addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 5 * time.Minute}
	return srv.Serve(ln)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:23200", "listen address")
	otlpAddr := flag.String("otlp", "", "also listen here as an OTLP/HTTP trace sink (empty: off)")
	latency := flag.Duration("latency", 0, "delay before the answer or the first chunk")
	jitter := flag.Duration("jitter", 0, "random extra delay in [0, jitter)")
	failPct := flag.Float64("fail-percent", 0, "percent of requests answered with a 500")
	rlPeriod := flag.Duration("rl-period", 0, "429 windows: period")
	rlWindow := flag.Duration("rl-window", 0, "429 windows: the first part of each period that answers 429")
	chunks := flag.Int("chunks", 20, "content chunks per streamed answer")
	streamTime := flag.Duration("stream-time", 0, "total time of a streamed answer (chunks paced evenly)")
	flag.Parse()

	s := &server{
		defaults: knobs{latency: *latency, jitter: *jitter, failPct: *failPct, chunks: *chunks, streamTime: *streamTime},
		rlPeriod: *rlPeriod, rlWindow: *rlWindow, started: time.Now(),
	}
	mux := http.NewServeMux()
	for _, p := range []string{"/v1/chat/completions", "/chat/completions"} {
		mux.HandleFunc(p, s.chat)
	}
	mux.HandleFunc("/v1/messages", s.messages)
	for _, p := range []string{"/v1/models", "/models"} {
		mux.HandleFunc(p, s.models)
	}
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"status":"ok"}`)) })
	mux.HandleFunc("/__stats", s.statsHandler)
	mux.HandleFunc("/v1/traces", s.otlp)
	if *otlpAddr != "" {
		otlpMux := http.NewServeMux()
		otlpMux.HandleFunc("/", s.otlp)
		go func() { log.Fatal(serve(*otlpAddr, otlpMux)) }()
	}
	log.Printf("mockllm listening on %s", *addr)
	log.Fatal(serve(*addr, mux))
}
