//! The rules that turn spans, events, links and clocks into edges.

use hashbrown::HashMap;

use causet_schema::attributes;

use super::gaps::{Gap, Gaps, Missing};
use super::load::Link;
use super::{Edge, EdgeSource, EventId, Graph, SpanKind, Sym, Vc};
use crate::grouped::Grouped;

/// Collects edges in the order the rules give them; a (from, to) given
/// twice keeps its first reason when the graph sorts them
/// (`EdgeColumns::new`), which costs less than a set of the pairs seen.
struct Edges {
    edges: Vec<Edge>,
}

impl Edges {
    fn add(&mut self, from: EventId, to: EventId, source: EdgeSource, inferred: bool) {
        if from != to {
            self.edges.push(Edge {
                from,
                to,
                source,
                inferred,
            });
        }
    }
}

pub(super) fn add_all(g: &mut Graph, links: &[Link], orphans: &[(u32, u64)]) -> Vec<Edge> {
    let mut e = Edges {
        edges: Vec::with_capacity(g.event_count() * 2),
    };
    let mut gaps = Gaps::default();
    within_spans(g, &mut e);
    parents(g, &mut e, &mut gaps, orphans);
    messages(g, &mut e, &mut gaps);
    self::links(g, links, &mut e, &mut gaps);
    logical_program_order(g, &mut e);
    vector_clocks(g, &mut e);
    sequential_siblings(g, &mut e);
    gaps.into.shrink_to_fit();
    gaps.out_of.shrink_to_fit();
    g.gaps = gaps;
    e.edges
}

/// Start, span events in recorded order, end: one thread of one node.
fn within_spans(g: &Graph, e: &mut Edges) {
    for (i, span) in g.spans.iter().enumerate() {
        let mut prev = span.start_event;
        for id in g.points(i as u32) {
            e.add(prev, id, EdgeSource::ProgramOrder, false);
            prev = id;
        }
        e.add(prev, span.end_event(), EdgeSource::ProgramOrder, false);
    }
}

/// Parent/child by kind: RPC request/reply, asynchronous messaging, or plain
/// nesting. Asynchronous children and children that outlive their parent
/// give no end->end edge; nor does a server whose client gave up first
/// (the client failed and ended before the server did: no reply arrived).
///
/// A parent that was not collected is a gap: it started before the child
/// and, unless the child is a consumer, may have ended after it.
fn parents(g: &Graph, e: &mut Edges, gaps: &mut Gaps, orphans: &[(u32, u64)]) {
    for &(child, parent) in orphans {
        let span = &g.spans[child as usize];
        let missing = Missing::Span {
            trace: span.trace_id,
            span: parent,
        };
        gaps.into.push(Gap {
            event: span.start_event,
            missing,
        });
        if span.kind != SpanKind::Consumer {
            gaps.out_of.push(Gap {
                event: span.end_event(),
                missing,
            });
        }
    }
    for span in &g.spans {
        let Some(p) = span.parent() else {
            continue;
        };
        let parent = &g.spans[p as usize];
        let asynchronous = parent.kind == SpanKind::Producer || span.kind == SpanKind::Consumer;
        if asynchronous {
            e.add(
                parent.start_event,
                span.start_event,
                EdgeSource::Messaging,
                false,
            );
        } else if parent.kind == SpanKind::Client && span.kind == SpanKind::Server {
            e.add(
                parent.start_event,
                span.start_event,
                EdgeSource::RpcRequest,
                false,
            );
            let client_gave_up = parent.error && span.end > parent.end;
            if !client_gave_up {
                e.add(
                    span.end_event(),
                    parent.end_event(),
                    EdgeSource::RpcReply,
                    false,
                );
            }
        } else {
            e.add(
                parent.start_event,
                span.start_event,
                EdgeSource::ParentChild,
                false,
            );
            if span.end <= parent.end {
                e.add(
                    span.end_event(),
                    parent.end_event(),
                    EdgeSource::ParentChild,
                    false,
                );
            }
        }
    }
}

/// Sends before receives of one `causet.msg.id`: span events named
/// `causet.send` / `causet.receive`, and PRODUCER / CONSUMER spans that carry
/// the id themselves (their start is the send or the receive). A receive
/// without its send, or a send without its receive, is a gap.
fn messages(g: &Graph, e: &mut Edges, gaps: &mut Gaps) {
    let send = g.symbols.get(attributes::EVENT_SEND);
    let receive = g.symbols.get(attributes::EVENT_RECEIVE);
    let mut sends: Vec<(Sym, EventId)> = Vec::new();
    let mut receives: Vec<(Sym, EventId)> = Vec::new();
    // Starts and ends carry neither a name of their own nor a message id.
    for (id, point) in g.point_events() {
        let Some(msg) = point.msg_id else {
            continue;
        };
        if Some(point.name) == send {
            sends.push((msg, id));
        } else if Some(point.name) == receive {
            receives.push((msg, id));
        }
    }
    for span in &g.spans {
        let Some(msg) = span.msg_id else {
            continue;
        };
        match span.kind {
            SpanKind::Producer => sends.push((msg, span.start_event)),
            SpanKind::Consumer => receives.push((msg, span.start_event)),
            _ => {}
        }
    }
    let sends = Grouped::new(sends);
    let receives = Grouped::new(receives);
    for (msg, receivers) in receives.groups() {
        for to in receivers {
            let mut sent = false;
            for from in sends.get(msg) {
                e.add(from, to, EdgeSource::Messaging, false);
                sent = true;
            }
            if !sent {
                gaps.into.push(Gap {
                    event: to,
                    missing: Missing::Message(msg),
                });
            }
        }
    }
    for (msg, senders) in sends.groups() {
        if receives.get(msg).next().is_none() {
            gaps.out_of.extend(senders.map(|event| Gap {
                event,
                missing: Missing::Message(msg),
            }));
        }
    }
}

/// A linked span started before the span that links to it; a link to a
/// span that was not collected is a gap.
fn links(g: &Graph, links: &[Link], e: &mut Edges, gaps: &mut Gaps) {
    for &((trace, span), (to_trace, to_span)) in links {
        let Some(linking) = g.span(trace, span) else {
            continue;
        };
        let linking = &g.spans[linking as usize];
        match g.span(to_trace, to_span) {
            Some(linked) => e.add(
                g.spans[linked as usize].start_event,
                linking.start_event,
                EdgeSource::Link,
                false,
            ),
            None => gaps.into.push(Gap {
                event: linking.start_event,
                missing: Missing::Span {
                    trace: to_trace,
                    span: to_span,
                },
            }),
        }
    }
}

/// Consecutive events of one node by the node's own logical clock.
fn logical_program_order(g: &Graph, e: &mut Edges) {
    for ticks in g.node_ticks().values() {
        for pair in ticks.windows(2) {
            if pair[0].0 < pair[1].0 {
                e.add(pair[0].1, pair[1].1, EdgeSource::ProgramOrder, false);
            }
        }
    }
}

/// For each event with a vector clock and each other node it knows of, the
/// event of that node it knows last, unless a direct predecessor already
/// knew it (its own previous event, a message's sender): what the clocks
/// prove that the rest of the graph does not already say.
fn vector_clocks(g: &Graph, e: &mut Edges) {
    let mut by_own: HashMap<(u32, u64), EventId> = HashMap::new();
    let node_ids: HashMap<Sym, u32> = (0..g.nodes.len() as u32)
        .map(|n| (g.node_sym(n), n))
        .collect();
    for (id, ev) in g.events() {
        if let Some(vc) = g.vc(id) {
            let own = vc.get(g.node_sym(ev.node));
            if own > 0 {
                by_own.entry((ev.node, own)).or_insert(id);
            }
        }
    }
    // Direct predecessors of events with a vector clock.
    let preds = Grouped::new(
        e.edges
            .iter()
            .filter(|edge| g.vc(edge.to).is_some())
            .map(|edge| (edge.to, edge.from))
            .collect(),
    );
    let mut new_edges = Vec::new();
    for (id, ev) in g.events() {
        let Some(vc) = g.vc(id) else {
            continue;
        };
        let own_sym = g.node_sym(ev.node);
        let own = vc.get(own_sym);
        let previous = (own > 1)
            .then(|| by_own.get(&(ev.node, own - 1)).copied())
            .flatten();
        let known: Vec<Vc<'_>> = previous
            .into_iter()
            .chain(preds.get(id))
            .filter_map(|p| g.vc(p))
            .collect();
        for (node, counter) in vc.iter() {
            if node == own_sym || known.iter().any(|k| k.get(node) >= counter) {
                continue;
            }
            if let Some(&from) = node_ids.get(&node).and_then(|n| by_own.get(&(*n, counter))) {
                new_edges.push((from, id));
            }
        }
    }
    for (from, to) in new_edges {
        e.add(from, to, EdgeSource::VectorClock, false);
    }
}

/// Sibling spans on one node that did not overlap ran one after the other,
/// as far as that node's wall clock can tell.
fn sequential_siblings(g: &Graph, e: &mut Edges) {
    // (parent, node, start, end, span) of every child span, sorted: each
    // parent's children on one node are one run, in start order.
    let mut children: Vec<(u32, u32, i64, i64, u32)> = g
        .spans
        .iter()
        .enumerate()
        .filter_map(|(i, span)| Some((span.parent()?, span.node, span.start, span.end, i as u32)))
        .collect();
    children.sort_unstable();
    for group in children.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        // The sibling that ended last among those before, and when.
        let mut latest: Option<u32> = None;
        for &(.., s) in group {
            let span = &g.spans[s as usize];
            if let Some(prev) = latest {
                let before = &g.spans[prev as usize];
                if before.end <= span.start {
                    e.add(
                        before.end_event(),
                        span.start_event,
                        EdgeSource::ProgramOrder,
                        true,
                    );
                }
            }
            if latest.is_none_or(|l| g.spans[l as usize].end < span.end) {
                latest = Some(s);
            }
        }
    }
}
