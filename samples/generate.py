#!/usr/bin/env python3
"""Writes the labelled scenarios of samples/: NAME.otlp.json (an OTLP/JSON
ExportTraceServiceRequest) and NAME.expected.json (the findings causet must
report: kind and span ids). Run it from anywhere after changing a scenario:

    python3 samples/generate.py

Times are milliseconds after 2026-11-25T10:00:00Z as each node's own clock
shows them; a skewed node's times are its wrong clock's.
"""
import json
import os

T0 = 1_795_600_800_000_000_000
HERE = os.path.dirname(os.path.abspath(__file__))
KINDS = {"internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}


def ns(ms):
    return str(T0 + round(ms * 1_000_000))


def value(v):
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, dict):  # a vector clock as an OTLP key-value list
        return {"kvlistValue": {"values": [{"key": k, "value": value(c)} for k, c in v.items()]}}
    return {"stringValue": str(v)}


def attrs(d):
    return [{"key": k, "value": value(v)} for k, v in d.items()]


def vc(**entries):
    return json.dumps(entries, separators=(",", ":"))


class Scenario:
    count = 0

    def __init__(self, name):
        # Ids are unique across scenarios, so all of them can share one data folder.
        Scenario.count += 1
        self.n = Scenario.count
        self.name = name
        self.spans = []  # (node, span json)
        self.expected = []
        self.incidents = []

    def span(self, sid, name, node, start, end, kind="internal", trace=1, parent=None,
             status=None, events=(), links=(), **attributes):
        span = {
            "traceId": self.trace_id(trace),
            "spanId": self.span_id(sid),
            "name": name,
            "kind": KINDS[kind],
            "startTimeUnixNano": ns(start),
            "endTimeUnixNano": ns(end),
            "attributes": attrs({k.replace("__", "."): v for k, v in attributes.items()}),
            "events": [
                {"timeUnixNano": ns(t), "name": n, "attributes": attrs({k.replace("__", "."): v for k, v in a.items()})}
                for (t, n, a) in events
            ],
            "links": [{"traceId": self.trace_id(lt), "spanId": self.span_id(ls)} for (lt, ls) in links],
            # None: unset; "ok"; "error"; any other text: an error with that message.
            "status": {} if status is None else {"code": 1} if status == "ok" else {"code": 2, "message": "" if status == "error" else status},
        }
        if parent is not None:
            span["parentSpanId"] = self.span_id(parent)
        self.spans.append((node, span))
        return sid

    def trace_id(self, trace):
        return "%032x" % (0xCA05E7 << 100 | self.n << 16 | trace)

    def span_id(self, sid):
        return "%016x" % (self.n << 32 | sid)

    def expect(self, kind, *sids):
        self.expected.append({"kind": kind, "span_ids": sorted(self.span_id(s) for s in sids)})

    def expect_incident(self, cause, anchor, **counts):
        """An incident the findings must group into: its cause, anchor and
        findings per kind (written to NAME.incidents.json)."""
        self.incidents.append({"cause": cause, "anchor": anchor, "counts": counts})

    def write(self):
        by_node = {}
        for node, span in self.spans:
            by_node.setdefault(node, []).append(span)
        request = {"resourceSpans": [
            {"resource": {"attributes": attrs({"service.name": node.split("-")[0], "service.instance.id": node})},
             "scopeSpans": [{"scope": {"name": "causet-samples", "version": "1"}, "spans": spans}]}
            for node, spans in by_node.items()
        ]}
        with open(os.path.join(HERE, self.name + ".otlp.json"), "w") as f:
            json.dump(request, f, indent=1)
            f.write("\n")
        with open(os.path.join(HERE, self.name + ".expected.json"), "w") as f:
            json.dump(sorted(self.expected, key=lambda e: (e["kind"], e["span_ids"])), f, indent=1)
            f.write("\n")
        if self.incidents:
            with open(os.path.join(HERE, self.name + ".incidents.json"), "w") as f:
                json.dump(sorted(self.incidents, key=lambda e: (e["cause"], e["anchor"])), f, indent=1)
                f.write("\n")


def rpc(s, cid, sid, client, server, c_start, c_end, s_start, s_end, trace=1, parent=None, c_status=None, s_status=None,
        c_attrs=None, s_attrs=None):
    s.span(cid, "call " + server, client, c_start, c_end, kind="client", trace=trace, parent=parent, status=c_status,
           **(c_attrs or {}))
    s.span(sid, "handle", server, s_start, s_end, kind="server", trace=trace, parent=cid, status=s_status, **(s_attrs or {}))


scenarios = []

# --- clock skew --------------------------------------------------------------

s = Scenario("causality-violation")
# db's clock is 150 ms behind: the server seems to start 100 ms before its client.
rpc(s, 0xa1, 0xb1, "web-1", "db-1", 0, 100, -100, -90)
s.expect("causality_violation", 0xa1, 0xb1)
scenarios.append(s)

s = Scenario("skew-exceeds-max-offset")
# db is 2 s behind; cache agrees with web. db is the node named.
s.span(0x10, "checkout", "web-1", 0, 400, kind="server")
rpc(s, 0xa1, 0xb1, "web-1", "cache-1", 10, 100, 20, 90, parent=0x10)
rpc(s, 0xa2, 0xb2, "web-1", "db-1", 110, 300, 120 - 2000, 290 - 2000, parent=0x10)
s.expect("causality_violation", 0xa2, 0xb2)
s.expect("skew_exceeds_max_offset", 0xa2, 0xb2)
s.expect_incident("clock_skew", "db-1", causality_violation=1, skew_exceeds_max_offset=1)
scenarios.append(s)

s = Scenario("offset-inconsistent")
# Two calls a second apart: the first says db's clock agrees with web's, the
# second that it is 5 s ahead. No single offset explains both: db's clock jumped.
s.span(0x10, "sync", "web-1", 0, 2000, kind="server")
rpc(s, 0xa1, 0xb1, "web-1", "db-1", 10, 100, 20, 90, parent=0x10)
rpc(s, 0xa2, 0xb2, "web-1", "db-1", 1010, 1100, 1020 + 5000, 1090 + 5000, parent=0x10)
s.expect("offset_inconsistent", 0xa1, 0xb1, 0xa2, 0xb2)
s.expect("causality_violation", 0xb2, 0xa2)
scenarios.append(s)

s = Scenario("clock-jump")
# ledger's Lamport clock orders its events; its wall clock steps back 2 s.
s.span(0x10, "apply batch", "ledger-1", 0, 100, events=[
    (10, "apply", {"causet__lamport": 1}),
    (20, "apply", {"causet__lamport": 2}),
    (30 - 2000, "apply", {"causet__lamport": 3}),
    (40 - 2000, "apply", {"causet__lamport": 4}),
])
s.expect("clock_jump", 0x10)
scenarios.append(s)

s = Scenario("hlc-drift")
# api's HLC carries a wall time 1 s ahead of its own physical clock.
s.span(0x10, "serve", "api-1", 0, 50, events=[
    (10, "tick", {"causet__hlc__wall_ns": int(ns(1010)), "causet__hlc__logical": 0}),
    (20, "tick", {"causet__hlc__wall_ns": int(ns(1010)), "causet__hlc__logical": 1}),
])
s.expect("hlc_drift", 0x10)
scenarios.append(s)

s = Scenario("hlc-regression")
# b's receive carries an HLC smaller than the send's: b ignored the message's clock.
s.span(0x10, "publish", "a-1", 0, 20, events=[(10, "causet.send", {"causet__msg__id": "m1", "causet__hlc__wall_ns": int(ns(10)), "causet__hlc__logical": 0})])
s.span(0x20, "consume", "b-1", 11, 30, trace=2, events=[(12, "causet.receive", {"causet__msg__id": "m1", "causet__hlc__wall_ns": int(ns(5)), "causet__hlc__logical": 0})])
s.expect("hlc_regression", 0x10, 0x20)
scenarios.append(s)

s = Scenario("vc-violation")
# b's receive does not include the sender's entry: its vector clock lost a merge.
s.span(0x10, "publish", "a-1", 0, 20, events=[(10, "causet.send", {"causet__msg__id": "m1", "causet__vc": vc(**{"a-1": 2})})])
s.span(0x20, "consume", "b-1", 11, 30, trace=2, events=[(12, "causet.receive", {"causet__msg__id": "m1", "causet__vc": vc(**{"b-1": 1})})])
s.expect("vc_violation", 0x10, 0x20)
scenarios.append(s)

s = Scenario("lamport-violation")
# b's receive is stamped 3 after a send stamped 5.
s.span(0x10, "publish", "a-1", 0, 20, events=[(10, "causet.send", {"causet__msg__id": "m1", "causet__lamport": 5})])
s.span(0x20, "consume", "b-1", 11, 30, trace=2, events=[(12, "causet.receive", {"causet__msg__id": "m1", "causet__lamport": 3})])
s.expect("lamport_violation", 0x10, 0x20)
scenarios.append(s)

s = Scenario("malformed-clock")
# A vector clock that is not JSON: the span is kept, the clock reported.
s.span(0x10, "replicate", "r-1", 0, 10, causet__vc="{broken", causet__lamport=4)
s.expect("malformed_clock", 0x10)
scenarios.append(s)

# --- writes ----------------------------------------------------------------------

s = Scenario("concurrent-write")
# Two replicas accept writes to one key that neither has seen from the other.
s.span(0x10, "PUT /cart", "r-1", 0, 10, kind="server", trace=1, causet__write__key="cart:1", causet__write__value="apple",
       causet__vc=vc(**{"r-1": 1}))
s.span(0x20, "PUT /cart", "r-2", 2, 12, kind="server", trace=2, causet__write__key="cart:1", causet__write__value="pear",
       causet__vc=vc(**{"r-2": 1}))
s.expect("concurrent_write", 0x10, 0x20)
s.expect_incident("write_conflict", "cart:1", concurrent_write=1)
scenarios.append(s)

s = Scenario("lww-inversion")
# r-1 writes, then replicates to r-2, which writes after receiving; r-2's clock
# is 10 ms behind, so its later write carries the earlier wall timestamp.
s.span(0x10, "put", "r-1", 99, 102, events=[
    (100, "write", {"causet__write__key": "k", "causet__write__value": "v1"}),
    (100.5, "causet.send", {"causet__msg__id": "rep-1"}),
])
s.span(0x20, "apply", "r-2", 94, 97, trace=2, events=[
    (95, "causet.receive", {"causet__msg__id": "rep-1"}),
    (96, "write", {"causet__write__key": "k", "causet__write__value": "v2"}),
])
s.expect("lww_inversion", 0x10, 0x20)
s.expect_incident("clock_skew", "r-1 + r-2", causality_violation=1, lww_inversion=1)
s.expect("causality_violation", 0x10, 0x20)
scenarios.append(s)

# --- retries -------------------------------------------------------------------

POST = {"http__request__method": "POST", "http__route": "/orders", "server__address": "orders"}

s = Scenario("duplicate-execution")
# The first POST timed out on the client but ran; the retry ran again.
s.span(0x10, "checkout", "web-1", 0, 500, kind="server")
rpc(s, 0xa1, 0xb1, "web-1", "orders-1", 10, 110, 20, 150, parent=0x10, c_status="deadline exceeded", s_status="ok",
    c_attrs=dict(POST, error__type="timeout"), s_attrs={"http__request__method": "POST", "http__response__status_code": 201})
rpc(s, 0xa2, 0xb2, "web-1", "orders-1", 200, 300, 210, 290, parent=0x10,
    c_attrs=dict(POST, http__request__resend_count=1, http__response__status_code=201),
    s_attrs={"http__request__method": "POST", "http__response__status_code": 201})
s.expect("duplicate_execution", 0xa1, 0xa2, 0xb1, 0xb2)
s.expect_incident("retry", "web-1 POST /orders", duplicate_execution=1)
scenarios.append(s)

s = Scenario("possible-duplicate")
# The first POST timed out and no server span tells whether it ran.
s.span(0x10, "checkout", "web-1", 0, 500, kind="server")
s.span(0xa1, "call orders", "web-1", 10, 110, kind="client", parent=0x10, status="deadline exceeded",
       **dict(POST, error__type="timeout"))
rpc(s, 0xa2, 0xb2, "web-1", "orders-1", 200, 300, 210, 290, parent=0x10,
    c_attrs=dict(POST, causet__retry__attempt=1, http__response__status_code=201))
s.expect("possible_duplicate", 0xa1, 0xa2)
scenarios.append(s)

s = Scenario("unsafe-retry")
# The first POST got a 500: the server failed, but may have half-done it.
s.span(0x10, "checkout", "web-1", 0, 500, kind="server")
rpc(s, 0xa1, 0xb1, "web-1", "orders-1", 10, 110, 20, 100, parent=0x10, c_status="error", s_status="error",
    c_attrs=dict(POST, http__response__status_code=500), s_attrs={"http__response__status_code": 500})
rpc(s, 0xa2, 0xb2, "web-1", "orders-1", 200, 300, 210, 290, parent=0x10,
    c_attrs=dict(POST, causet__retry__attempt=1, http__response__status_code=201))
s.expect("unsafe_retry", 0xa1, 0xa2)
scenarios.append(s)

s = Scenario("retry-deduplicated")
# Clean: the first POST ran but its reply was lost; the retry carried the same
# idempotency key and the server answered it from its cache (info only).
KEYED = dict(POST, causet__idempotency_key="order-7f3a")
s.span(0x10, "checkout", "web-1", 0, 500, kind="server")
rpc(s, 0xa1, 0xb1, "web-1", "orders-1", 10, 110, 20, 150, parent=0x10, c_status="deadline exceeded",
    c_attrs=dict(KEYED, error__type="timeout"), s_attrs={"causet__idempotency_key": "order-7f3a"})
rpc(s, 0xa2, 0xb2, "web-1", "orders-1", 200, 300, 210, 290, parent=0x10,
    c_attrs=dict(KEYED, http__request__resend_count=1, http__response__status_code=200),
    s_attrs={"causet__idempotency_key": "order-7f3a", "causet__idempotency__replayed": True})
s.expect("deduplicated", 0xa1, 0xa2)
scenarios.append(s)

# --- clean scenarios: no finding ---------------------------------------------

s = Scenario("clean-async-messaging")
# A producer hands a message to a consumer that runs long after it ended.
s.span(0x10, "enqueue", "api-1", 0, 5, kind="producer", causet__msg__id="job-1")
s.span(0x20, "process", "worker-1", 50, 400, kind="consumer", parent=0x10, causet__msg__id="job-1")
s.span(0x30, "notify", "worker-1", 410, 420, kind="producer", trace=2, links=[(1, 0x20)])
scenarios.append(s)

s = Scenario("clean-child-outlives-parent")
# A fire-and-forget child keeps running after its parent returned.
s.span(0x10, "request", "api-1", 0, 20, kind="server")
s.span(0x20, "audit log", "api-1", 5, 300, parent=0x10)
scenarios.append(s)

s = Scenario("clean-sequential-writes")
# r-1 writes k twice in sequence, then replicates; r-2 writes k after applying.
s.span(0x10, "batch", "r-1", 0, 100, kind="server")
s.span(0x11, "write", "r-1", 10, 20, parent=0x10, causet__write__key="k", causet__write__value="1")
s.span(0x12, "write", "r-1", 30, 40, parent=0x10, causet__write__key="k", causet__write__value="2",
       events=[(39, "causet.send", {"causet__msg__id": "rep-9"})])
s.span(0x20, "apply", "r-2", 45, 60, trace=2, events=[
    (46, "causet.receive", {"causet__msg__id": "rep-9"}),
    (50, "write", {"causet__write__key": "k", "causet__write__value": "2"}),
])
scenarios.append(s)

s = Scenario("clean-skew-within-max-offset")
# db is 5 ms behind, less than the call's latency: nothing contradicts causality.
s.span(0x10, "checkout", "web-1", 0, 200, kind="server")
rpc(s, 0xa1, 0xb1, "web-1", "db-1", 10, 110, 30 - 5, 90 - 5, parent=0x10)
rpc(s, 0xa2, 0xb2, "web-1", "cache-1", 120, 190, 130, 180, parent=0x10)
scenarios.append(s)

s = Scenario("clean-server-outlives-timeout")
# The client gave up after 100 ms; the server finished at 300 ms; nobody retried.
s.span(0x10, "checkout", "web-1", 0, 150, kind="server")
rpc(s, 0xa1, 0xb1, "web-1", "orders-1", 10, 110, 20, 300, parent=0x10, c_status="deadline exceeded",
    c_attrs=dict(POST, error__type="timeout"))
scenarios.append(s)

# --- incidents ----------------------------------------------------------------
# (Appended last: a scenario's ids depend on its position.)

s = Scenario("two-skewed-nodes")
# web calls four peers: cache and auth agree with it, db is 2 s behind and
# queue 3 s ahead. Two independent clocks are wrong: two incidents, each
# holding its node's skew finding and the causality violation it caused.
s.span(0x10, "checkout", "web-1", 0, 1000, kind="server")
rpc(s, 0xa1, 0xb1, "web-1", "cache-1", 10, 100, 20, 90, parent=0x10)
rpc(s, 0xa2, 0xb2, "web-1", "auth-1", 110, 200, 120, 190, parent=0x10)
rpc(s, 0xa3, 0xb3, "web-1", "db-1", 210, 400, 220 - 2000, 390 - 2000, parent=0x10)
rpc(s, 0xa4, 0xb4, "web-1", "queue-1", 410, 600, 420 + 3000, 590 + 3000, parent=0x10)
s.expect("causality_violation", 0xa3, 0xb3)
s.expect("skew_exceeds_max_offset", 0xa3, 0xb3)
s.expect("causality_violation", 0xa4, 0xb4)
s.expect("skew_exceeds_max_offset", 0xa4, 0xb4)
s.expect_incident("clock_skew", "db-1", causality_violation=1, skew_exceeds_max_offset=1)
s.expect_incident("clock_skew", "queue-1", causality_violation=1, skew_exceeds_max_offset=1)
scenarios.append(s)

s = Scenario("possible-concurrent-write")
# Sampling kept two writes of `order:9` (no vector clocks) but not their
# parents, 0x01 and 0x02: the first parent may have ended after r-1's write
# and called, through spans nobody collected, the second parent, which then
# called r-2's write. Nothing collected orders the writes, and nothing rules
# that path out: a possible conflict, not a certain one. Near miss: r-3 and
# r-4 write `order:10` as roots, with no gap anywhere near them: a conflict.
s.span(0x10, "PUT /order", "r-1", 0, 10, kind="server", trace=1, parent=0x01,
       causet__write__key="order:9", causet__write__value="paid")
s.span(0x20, "PUT /order", "r-2", 50, 60, kind="server", trace=1, parent=0x02,
       causet__write__key="order:9", causet__write__value="cancelled")
s.span(0x30, "PUT /order", "r-3", 0, 10, kind="server", trace=2,
       causet__write__key="order:10", causet__write__value="paid")
s.span(0x40, "PUT /order", "r-4", 50, 60, kind="server", trace=3,
       causet__write__key="order:10", causet__write__value="cancelled")
s.expect("possible_concurrent_write", 0x10, 0x20)
s.expect("concurrent_write", 0x30, 0x40)
s.expect_incident("write_conflict", "order:9", possible_concurrent_write=1)
s.expect_incident("write_conflict", "order:10", concurrent_write=1)
scenarios.append(s)

s = Scenario("critical-path-through-queue")
# checkout publishes an order to a queue (producer), a worker consumes it
# (consumer, asynchronous child) and, when done, sends web a message that
# checkout waits for before it answers. The critical path of the checkout
# runs through the queue and the worker, not only through checkout's own
# spans. Clean: no finding.
s.span(0x10, "checkout", "web-1", 0, 300, kind="server",
       events=[(260, "causet.receive", {"causet__msg__id": "order-done"})])
s.span(0x20, "publish order", "web-1", 10, 20, kind="producer", parent=0x10, causet__msg__id="order-new")
s.span(0x30, "process order", "worker-1", 100, 250, kind="consumer", parent=0x20, causet__msg__id="order-new",
       events=[(249, "causet.send", {"causet__msg__id": "order-done"})])
scenarios.append(s)

s = Scenario("skewed-cut")
# queue's clock runs 3 s ahead (the call from web bounds it: 2.98 to 3.01 s;
# cache agrees with web).
# queue restocks (writes stock:1 = 5) and tells web by message; web receives
# it at 150 ms and then writes stock:1 = 4. At 10:00:01 by the wall clocks,
# the snapshot holds web's receive and write but not queue's send (3.11 s on
# queue's clock): inconsistent. The consistent cut corrects queue's clock and
# holds both; stock:1 = "4" there. r-1 and r-2 wrote cart:9 concurrently:
# two siblings at the cut.
s.span(0x10, "checkout", "web-1", 0, 2000, kind="server", events=[
    (150, "causet.receive", {"causet__msg__id": "restocked"}),
    (200, "reserve", {"causet__write__key": "stock:1", "causet__write__value": "4"}),
])
rpc(s, 0xa1, 0xb1, "web-1", "queue-1", 10, 60, 3020, 3040, parent=0x10)
rpc(s, 0xa2, 0xb2, "web-1", "cache-1", 70, 90, 75, 85, parent=0x10)
s.span(0x20, "restock", "queue-1", 3100, 3120, trace=2, causet__write__key="stock:1", causet__write__value="5",
       events=[(3110, "causet.send", {"causet__msg__id": "restocked"})])
s.span(0x30, "PUT /cart", "r-1", 300, 310, kind="server", trace=3, causet__write__key="cart:9", causet__write__value="a")
s.span(0x40, "PUT /cart", "r-2", 305, 315, kind="server", trace=4, causet__write__key="cart:9", causet__write__value="b")
s.expect("skew_exceeds_max_offset", 0xa1, 0xb1)
s.expect("causality_violation", 0xa1, 0xb1)
s.expect("lww_inversion", 0x10, 0x20)
s.expect("concurrent_write", 0x30, 0x40)
s.expect_incident("clock_skew", "queue-1", causality_violation=1, lww_inversion=1, skew_exceeds_max_offset=1)
s.expect_incident("write_conflict", "cart:9", concurrent_write=1)
scenarios.append(s)

s = Scenario("diff-traces")
# Three checkouts. Trace 1, good: web calls auth, then db. Trace 2, bad:
# web calls db first, then auth (reordered), and calls db a second time (an
# extra attempt). Trace 3: like the good one, only slower (db takes 300 ms).
# `causet diff` on 1 and 2 exits 1; on 1 and 3 it exits 0. Clean.
s.span(0x10, "checkout", "web-1", 0, 200, kind="server", trace=1)
rpc(s, 0xa1, 0xb1, "web-1", "auth-1", 10, 50, 15, 45, trace=1, parent=0x10)
rpc(s, 0xa2, 0xb2, "web-1", "db-1", 60, 150, 65, 145, trace=1, parent=0x10)
s.span(0x20, "checkout", "web-1", 1000, 1300, kind="server", trace=2)
rpc(s, 0xc1, 0xd1, "web-1", "db-1", 1010, 1100, 1015, 1095, trace=2, parent=0x20)
rpc(s, 0xc2, 0xd2, "web-1", "auth-1", 1110, 1150, 1115, 1145, trace=2, parent=0x20)
rpc(s, 0xc3, 0xd3, "web-1", "db-1", 1160, 1250, 1165, 1245, trace=2, parent=0x20)
s.span(0x30, "checkout", "web-1", 2000, 2450, kind="server", trace=3)
rpc(s, 0xe1, 0xf1, "web-1", "auth-1", 2010, 2050, 2015, 2045, trace=3, parent=0x30)
rpc(s, 0xe2, 0xf2, "web-1", "db-1", 2060, 2400, 2065, 2395, trace=3, parent=0x30)
scenarios.append(s)

s = Scenario("heartbeat-suspected")
# monitor-1 receives heartbeats (spans with causet.heartbeat.from) once a
# second from four nodes. n-1 pauses from 11 s to 19 s, then resumes: a
# false suspicion, slow not dead (medium). n-2 stops at 20 s and never comes
# back while the others go on to 30 s (high). Near misses: n-3's heartbeats
# jitter by up to 150 ms (no suspicion), n-4 sent only three (too few to
# judge).
JITTER = [0, 150, -100, 50, -150, 100, -50, 120, -120, 0]
def beats(node_index, node, times):
    for k, t in enumerate(times):
        s.span(0x1000 + node_index * 0x100 + k, "heartbeat", "monitor-1", t, t + 1, kind="server",
               trace=10 + node_index, causet__heartbeat__from=node)
    return [0x1000 + node_index * 0x100 + k for k in range(len(times))]
n1 = beats(1, "n-1", [t for t in range(0, 30001, 1000) if not 11000 < t < 19000])
n2 = beats(2, "n-2", list(range(0, 20001, 1000)))
beats(3, "n-3", [t + JITTER[i % len(JITTER)] for i, t in enumerate(range(1000, 30001, 1000))])
beats(4, "n-4", [0, 1000, 2000])
s.expect("suspected", n1[11], n1[12])
s.expect("suspected", n2[-1])
s.expect_incident("node_failure", "n-1", suspected=1)
s.expect_incident("node_failure", "n-2", suspected=1)
scenarios.append(s)

s = Scenario("heartbeat-rpc")
# leader-1 sends a Heartbeat RPC to f-1 every 500 ms and pauses from 5 s to
# 9 s. Nothing marks these spans as heartbeats, so by default there is no
# finding; with `--heartbeat-span Heartbeat` f-1 suspects leader-1 (the
# node of each server span's parent) during the pause.
for k, t in enumerate([t for t in range(0, 12001, 500) if not 5000 < t < 9000]):
    rpc(s, 0x100 + k, 0x200 + k, "leader-1", "f-1", t, t + 20, t + 5, t + 15, trace=1 + k)
    s.spans[-1][1]["name"] = "Heartbeat"
scenarios.append(s)

# --- failures of nodes and links ---------------------------------------------

TIMEOUT = 500  # ms a client waits before it gives up on a call


def call(s, cid, client, server, t, ok=True, took=10, trace=None):
    """A call at t ms: answered (a client span and the server's) or timed out
    (a client span alone, status ERROR, error.type timeout). Returns the
    client span's id."""
    trace = trace or cid
    if ok:
        s.span(cid, "call " + server, client, t, t + took, kind="client", trace=trace, server__address=server,
               http__response__status_code=200)
        s.span(cid + 1, "handle", server, t + 1, t + took - 1, kind="server", trace=trace, parent=cid)
    else:
        s.span(cid, "call " + server, client, t, t + TIMEOUT, kind="client", trace=trace,
               status="deadline exceeded", server__address=server, error__type="timeout")
    return cid


def links(s, base, pairs, seconds, failing, offset_ms=100):
    """Calls once a second over `seconds` on each (client, server) pair, the
    i-th pair offset by i * offset_ms; a call fails when failing(pair, second).
    Returns {pair: {second: client span id}}."""
    ids = {}
    for i, pair in enumerate(pairs):
        for k in seconds:
            cid = base + (i << 12) + (k << 2)
            ids.setdefault(pair, {})[k] = call(s, cid, pair[0], pair[1], k * 1000 + i * offset_ms,
                                               ok=not failing(pair, k))
    return ids


s = Scenario("partition")
# {api-1, api-2} and {store-3, store-4} cannot reach each other from 10 s to
# 20 s: api-1 -> store-3, api-2 -> store-4 and store-4 -> api-2 time out
# while gw-1 -> api-1 / api-2 and store-3 -> store-4 keep succeeding. Near
# misses after it: a call slowed by a blip shorter than the timeout, and two
# timeouts in a row followed by a success (too short a run).
across = [("api-1", "store-3"), ("api-2", "store-4"), ("store-4", "api-2")]
within = [("gw-1", "api-1"), ("gw-1", "api-2"), ("store-3", "store-4")]
cut = links(s, 0x100000, across, range(0, 25), lambda pair, k: 10 <= k < 20)
links(s, 0x200000, within, range(0, 25), lambda pair, k: False, offset_ms=150)
call(s, 0x300000, "api-2", "store-3", 26000, took=400)
for k, t in enumerate([27000, 27600, 28200]):
    call(s, 0x300010 + 4 * k, "api-1", "store-4", t, ok=k == 2)
witness = [cut[pair][k] for pair in across for k in (10, 19)]
s.expect("partition", *witness, cut[("store-4", "api-2")][9], cut[("api-1", "store-3")][20])
s.expect_incident("network_partition", "{api-1, api-2} | {store-3, store-4}", partition=1)
scenarios.append(s)

s = Scenario("partition-asymmetric")
# From 5 s to 15 s a-1 and a-2 cannot reach b-1 or b-2, while b-1's calls
# to a-1 keep succeeding (a one-way firewall rule); b-1 <-> b-2 and a-1 ->
# a-2 keep working.
across = [("a-1", "b-1"), ("a-2", "b-2")]
cut = links(s, 0x100000, across, range(0, 20), lambda pair, k: 5 <= k < 15)
links(s, 0x200000, [("b-1", "a-1"), ("b-1", "b-2"), ("a-1", "a-2")], range(0, 20), lambda pair, k: False,
      offset_ms=150)
witness = [cut[pair][k] for pair in across for k in (5, 14)]
s.expect("partition", *witness, cut[("a-2", "b-2")][4], cut[("a-1", "b-1")][15])
scenarios.append(s)

s = Scenario("node-unreachable")
# store-9 dies at 10 s: api-1, api-2 and gw-1 time out on every call to it
# until the data ends at 30 s, and store-9 sends nothing more. Near miss:
# idle-1 serves gw-1 until 10 s, then nobody calls it and it sends nothing
# (idle, not unreachable).
callers = [("api-1", "store-9"), ("api-2", "store-9"), ("gw-1", "store-9")]
dead = links(s, 0x100000, callers, range(0, 30), lambda pair, k: k >= 10)
links(s, 0x200000, [("gw-1", "idle-1")], range(0, 10), lambda pair, k: False, offset_ms=0)
links(s, 0x300000, [("gw-1", "api-1"), ("gw-1", "api-2")], range(0, 30), lambda pair, k: False, offset_ms=150)
witness = [dead[pair][k] for pair in callers for k in (10, 29)]
s.expect("node_unreachable", *witness, dead[("gw-1", "store-9")][9])
s.expect_incident("node_failure", "store-9", node_unreachable=1)
scenarios.append(s)

s = Scenario("gray-failure")
# Four instances serve GET /item. 10:00-10:01: item-3 answers it 100 times
# slower (100 ms against 1 ms) while its GET /health stays fast; item-1 has
# one slow request (a near miss). 10:01-10:02: every instance 20 times slower
# (a whole-cluster slowdown, a near miss). 10:02-10:03: item-2 fails 8 of
# its 40 POST /item (HTTP 500), its peers none.
def served(sid, node, name, t, took, status=200):
    s.span(sid, name, node, t, t + took, kind="server", trace=sid, http__response__status_code=status,
           status="error" if status >= 500 else None)
    return sid

slowest, failed = [], []
for n in range(1, 5):
    node = "item-%d" % n
    for k in range(40):
        t = k * 1000 + n * 10
        took = 100 + k if node == "item-3" else (200 if node == "item-1" and k == 7 else 1 + k / 100)
        sid = served(0x100000 + (n << 12) + k, node, "GET /item", t, took)
        if node == "item-3" and k >= 37:
            slowest.append(sid)
        served(0x200000 + (n << 12) + k, node, "GET /item", 60000 + t, 20 + k / 10)
        fails = node == "item-2" and k % 5 == 0
        sid = served(0x300000 + (n << 12) + k, node, "POST /item", 120000 + t, 5 + k / 10 if fails else 2 + k / 100,
                     status=500 if fails else 200)
        if fails and len(failed) < 3:
            failed.append(sid)
    for k in range(20):
        served(0x400000 + (n << 12) + k, node, "GET /health", k * 2000 + 500, 1)
s.expect("gray_failure", *slowest)
s.expect("gray_failure", *failed)
s.expect_incident("gray_failure", "item-3 GET /item", gray_failure=1)
s.expect_incident("gray_failure", "item-2 POST /item", gray_failure=1)
scenarios.append(s)

for s in scenarios:
    s.write()
print("wrote", len(scenarios), "scenarios")
