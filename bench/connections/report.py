#!/usr/bin/env python3
"""Helpers for bench/connections/run.sh: turns raw measurements into one record per case, and records into the
table (or JSON) the script prints.

    report.py case --name NAME --proto tcp|paced|udp [--round N] --loadgen FILE --samples FILE
                   --queue-samples FILE --before SNAP --after SNAP
        Prints one JSON record. LOADGEN is loadgen's JSON line; SAMPLES is server.c's sample log (the server's
        counts are interpolated at loadgen's window start and end, both CLOCK_MONOTONIC); SNAP files are taken by
        run.sh at the window's start and end: a CLOCK_REALTIME line, "---proc" and the node namespace's
        /proc/net/netfilter/nfnetlink_queue, then "---kcache" with "accepted N" (packets of the kernel allow cache's
        rule) and "entries N" (the IPv4 set's size) when the cache is installed, then "---metrics" and Tollgate's
        /metrics (empty without Tollgate).
    report.py sample-queues FILE
        Runs until killed (inside the node namespace): appends "MONOTONIC_NS QUEUED QUEUE_DROPPED USER_DROPPED",
        summed over the queues of /proc/net/netfilter/nfnetlink_queue, to FILE every 20 ms, so that the queue
        counts can be read over loadgen's exact window like the server's.
    report.py table RECORDS.jsonl META.json [--output text|json]
        Prints the comparison table and the ratios against the issue's targets.
"""
import argparse
import json
import sys
import time

TARGET_VS_READER = 1.0
TARGET_VS_NO_QUEUE = 0.8
TARGET_ADDED_P50_US = 30.0


def interpolate(samples, t, column):
    """The counter in `column` at monotonic time t, linearly interpolated between the samples around it."""
    previous = None
    for sample in samples:
        if sample[0] >= t:
            if previous is None or sample[0] == previous[0]:
                return float(sample[column])
            share = (t - previous[0]) / (sample[0] - previous[0])
            return previous[column] + share * (sample[column] - previous[column])
        previous = sample
    return float(previous[column]) if previous else 0.0


def read_samples(path):
    samples = []
    with open(path) as handle:
        for line in handle:
            fields = line.split()
            if len(fields) >= 3 and all(f.isdigit() for f in fields):
                samples.append(tuple(int(f) for f in fields))
    return samples


def read_snapshot(path):
    """(time, {queue: proc fields}, {metric line name: value}, {"accepted"/"entries": n}) from a snapshot file."""
    with open(path) as handle:
        lines = handle.read().splitlines()
    if not lines:
        raise SystemExit(f"report.py: empty snapshot {path}")
    time = float(lines[0])
    section = None
    queues, metrics, kcache = {}, {}, {}
    for line in lines[1:]:
        if line in ("---proc", "---metrics", "---kcache"):
            section = line
            continue
        if section == "---kcache":
            fields = line.split()
            if len(fields) == 2 and fields[1].isdigit():
                kcache[fields[0]] = int(fields[1])
            continue
        if section == "---proc":
            fields = line.split()
            # queue, peer port id, queue total, copy mode, copy range, queue dropped, user dropped, id sequence, 1
            if len(fields) >= 8:
                queues[int(fields[0])] = {
                    "waiting": int(fields[2]), "queue_dropped": int(fields[5]), "user_dropped": int(fields[6]),
                    "id_sequence": int(fields[7])}
        elif section == "---metrics" and line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            try:
                metrics[name] = float(value)
            except ValueError:
                pass
    return time, queues, metrics, kcache


def histogram_quantile(buckets, quantile):
    """Prometheus-style quantile from [(upper bound, count in bucket)] (counts not cumulative), linear within a
    bucket; None without samples."""
    total = sum(count for _, count in buckets)
    if total <= 0:
        return None
    wanted = quantile * total
    running, lower = 0.0, 0.0
    for upper, count in buckets:
        if running + count >= wanted and count > 0:
            if upper == float("inf"):
                return lower
            return lower + (upper - lower) * (wanted - running) / count
        running += count
        lower = upper
    return lower


def sample_queues(path):
    with open(path, "w") as out:
        while True:
            totals = [0, 0, 0]
            try:
                with open("/proc/net/netfilter/nfnetlink_queue") as proc:
                    for line in proc:
                        fields = line.split()
                        if len(fields) >= 8:
                            totals[0] += int(fields[7])
                            totals[1] += int(fields[5])
                            totals[2] += int(fields[6])
            except OSError:
                pass
            out.write(f"{time.monotonic_ns()} {totals[0]} {totals[1]} {totals[2]}\n")
            out.flush()
            time.sleep(0.02)


def metric_delta(before, after, name):
    return after.get(name, 0.0) - before.get(name, 0.0)


def tollgate_metrics(before, after):
    if not after:
        return None
    hits = metric_delta(before, after, "tollgate_flow_cache_hits_total")
    misses = metric_delta(before, after, "tollgate_flow_cache_misses_total")
    sums = lambda prefix: sum(
        after[k] - before.get(k, 0.0) for k in after if k.startswith(prefix + "{") or k == prefix)
    bounds = []
    for key in after:
        if key.startswith("tollgate_verdict_latency_seconds_bucket{"):
            label = key.split('le="', 1)[1].split('"', 1)[0]
            upper = float("inf") if label == "+Inf" else float(label)
            bounds.append((upper, after[key] - before.get(key, 0.0)))
    bounds.sort()
    per_bucket, previous = [], 0.0
    for upper, cumulative in bounds:
        per_bucket.append((upper * 1e6, cumulative - previous))
        previous = cumulative
    count = metric_delta(before, after, "tollgate_verdict_latency_seconds_count")
    total = metric_delta(before, after, "tollgate_verdict_latency_seconds_sum")
    decision_count = metric_delta(before, after, "tollgate_decision_latency_seconds_count")
    decision_total = metric_delta(before, after, "tollgate_decision_latency_seconds_sum")
    return {
        "packets": sums("tollgate_packets_total"),
        "cache_hits": hits, "cache_misses": misses,
        "cache_hit_ratio": hits / (hits + misses) if hits + misses > 0 else None,
        "queue_dropped": sums("tollgate_queue_dropped_total"),
        "queue_user_dropped": sums("tollgate_queue_user_dropped_total"),
        "receive_buffer_overflows": sums("tollgate_receive_buffer_overflows_total"),
        "verdict_send_errors": sums("tollgate_verdict_send_errors_total"),
        "verdict_latency_mean_us": total / count * 1e6 if count > 0 else None,
        "decision_latency_mean_us": decision_total / decision_count * 1e6 if decision_count > 0 else None,
        "allow_set_adds": metric_delta(before, after, 'tollgate_allow_set_adds_total{result="sent"}'),
        "allow_set_add_errors": metric_delta(before, after, 'tollgate_allow_set_adds_total{result="failed"}'),
        "verdict_latency_p50_us": histogram_quantile(per_bucket, 0.5),
        "verdict_latency_p99_us": histogram_quantile(per_bucket, 0.99),
        "verdict_latency_buckets_us": [[u, c] for u, c in per_bucket],
    }


def case(arguments):
    with open(arguments.loadgen) as handle:
        load = json.loads(handle.read().strip().splitlines()[-1])
    samples = read_samples(arguments.samples)
    start, end = load["window_start_ns"], load["window_end_ns"]
    window = (end - start) / 1e9
    column = 2 if arguments.proto == "udp" else 1
    server_count = interpolate(samples, end, column) - interpolate(samples, start, column)
    _, q0, m0, k0 = read_snapshot(arguments.before)
    _, q1, m1, k1 = read_snapshot(arguments.after)
    # Queued between the two snapshots (the id sequences), the interval the allow cache's counter covers too.
    queued_between = sum(q1[n]["id_sequence"] - q0[n]["id_sequence"] for n in q1 if n in q0)
    queue_samples = read_samples(arguments.queue_samples)
    queued_at = lambda t, c: interpolate(queue_samples, t, c)
    queued = round(queued_at(end, 1) - queued_at(start, 1))
    record = {
        "case": arguments.name, "proto": arguments.proto, "round": arguments.round, "loadgen": load,
        "server_count": round(server_count), "server_per_sec": server_count / window,
        "queued": queued, "queued_per_sec": queued / window,
        "queue_dropped": round(queued_at(end, 2) - queued_at(start, 2)),
        "queue_user_dropped": round(queued_at(end, 3) - queued_at(start, 3)),
        "queues": sorted(q1),
        "tollgate": tollgate_metrics(m0, m1),
        # The allow cache's rule over the window (snapshots, not the loadgen window exactly) and the set's size.
        "kcache_accepted": k1["accepted"] - k0.get("accepted", 0) if "accepted" in k1 else None,
        "queued_between_snapshots": queued_between,
        "kcache_entries_before": k0.get("entries"), "kcache_entries_after": k1.get("entries"),
    }
    print(json.dumps(record, sort_keys=True))


def fmt(value, digits=0):
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def median(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def table(arguments):
    records = {}  # (case, proto) -> [record per round]
    with open(arguments.records) as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                records.setdefault((record["case"], record["proto"]), []).append(record)
    with open(arguments.meta) as handle:
        meta = json.load(handle)
    cases = [("none", "no queue"), ("floor", "C floor reader"), ("tollgate", "Tollgate, 10k policies")]
    variants = [("tollgate-rt", "Tollgate, SCHED_RR"), ("tollgate-kc", "Tollgate, kernel cache")]
    cases += [(name, label) for name, label in variants if any(case == name for case, _ in records)]
    rounds = sorted({r["round"] for rs in records.values() for r in rs})

    def value(record, key):
        if key == "decided_per_sec":
            # Without a queue, what the server received; with the kernel allow cache, what the queues answered plus
            # what the set's rule accepted (older records without that counter: what the server received);
            # otherwise what the queues answered.
            if record["case"] == "tollgate-kc" and record.get("kcache_accepted") is not None:
                window = (record["loadgen"]["window_end_ns"] - record["loadgen"]["window_start_ns"]) / 1e9
                return record["queued_per_sec"] + record["kcache_accepted"] / window
            return record["server_per_sec"] if record["case"] in ("none", "tollgate-kc") else record["queued_per_sec"]
        if key in record:
            return record[key]
        return record["loadgen"].get(key)

    def one(name, proto, key, round_number):
        for record in records.get((name, proto), []):
            if record["round"] == round_number:
                return value(record, key)
        return None

    def med(name, proto, key):
        return median(value(r, key) for r in records.get((name, proto), []))

    def paired(name_a, name_b, proto, key, combine):
        """The median over rounds of combine(a, b), each round's a and b measured minutes apart at most."""
        results = []
        for n in rounds:
            a, b = one(name_a, proto, key, n), one(name_b, proto, key, n)
            if a is not None and b is not None and (combine is not ratio or b):
                results.append(combine(a, b))
        return median(results), results

    ratio = lambda a, b: a / b
    difference = lambda a, b: a - b
    comparisons = {
        "conn_ratio_vs_floor": paired("tollgate", "floor", "tcp", "conn_per_sec", ratio),
        "conn_ratio_vs_no_queue": paired("tollgate", "none", "tcp", "conn_per_sec", ratio),
        "added_p50_us": paired("tollgate", "none", "tcp", "p50_us", difference),
        "added_p50_us_paced": paired("tollgate", "none", "paced", "p50_us", difference),
        "floor_added_p50_us": paired("floor", "none", "tcp", "p50_us", difference),
        "floor_added_p50_us_paced": paired("floor", "none", "paced", "p50_us", difference),
        "udp_decided_ratio_vs_floor": paired("tollgate", "floor", "udp", "decided_per_sec", ratio),
        "udp_decided_ratio_vs_no_queue": paired("tollgate", "none", "udp", "decided_per_sec", ratio),
    }
    for name, _ in cases[3:]:
        comparisons.update({
            f"{name}_conn_ratio_vs_floor": paired(name, "floor", "tcp", "conn_per_sec", ratio),
            f"{name}_conn_ratio_vs_no_queue": paired(name, "none", "tcp", "conn_per_sec", ratio),
            f"{name}_conn_ratio_vs_tollgate": paired(name, "tollgate", "tcp", "conn_per_sec", ratio),
            f"{name}_added_p50_us": paired(name, "none", "tcp", "p50_us", difference),
            f"{name}_added_p50_us_paced": paired(name, "none", "paced", "p50_us", difference),
            f"{name}_udp_decided_ratio_vs_no_queue": paired(name, "none", "udp", "decided_per_sec", ratio),
        })
    summary = {key: value for key, (value, _) in comparisons.items()}
    summary["per_round"] = {key: values for key, (_, values) in comparisons.items()}
    summary["targets"] = {
        "conn_rate_vs_floor_ge_1.0": summary["conn_ratio_vs_floor"] is not None
        and summary["conn_ratio_vs_floor"] >= TARGET_VS_READER,
        "conn_rate_vs_no_queue_ge_0.8": summary["conn_ratio_vs_no_queue"] is not None
        and summary["conn_ratio_vs_no_queue"] >= TARGET_VS_NO_QUEUE,
        "added_p50_le_30us": summary["added_p50_us"] is not None and summary["added_p50_us"] <= TARGET_ADDED_P50_US,
        "added_p50_paced_le_30us": summary["added_p50_us_paced"] is not None
        and summary["added_p50_us_paced"] <= TARGET_ADDED_P50_US,
    }
    if arguments.output == "json":
        flat = [r for rs in records.values() for r in rs]
        print(json.dumps({"meta": meta, "records": flat, "summary": summary}, sort_keys=True))
        return

    print(f"machine: {meta['cpus']} CPUs, {meta['cpu_model']}, kernel {meta['kernel']}")
    print(f"date: {meta['date']}; load average before {meta['load_before']}, after {meta['load_after']}")
    print(f"command: {meta['command']}")
    if meta.get("flows", "default") != "default":
        print(f"flows: {meta['flows']} distinct (source address, protocol, destination port, destination) keys; "
              f"TCP ports {meta['tcp_ports']}, UDP ports {meta['udp_ports']}")
    print(f"each case: {meta['warmup']} s warm-up + {meta['seconds']} s measured, {meta['rounds']} round(s) "
          f"interleaved; TCP {meta['threads']} client threads; paced: 1 thread at {meta['paced_rate']}/s; "
          f"UDP {meta['udp_threads']} sender threads; Tollgate --workers {meta['workers']}")
    print()
    if len(rounds) > 1:
        print(f"Medians over {len(rounds)} rounds.")
    print(f"{'':<24}{'--- TCP, saturated ---':>43}{'- paced -':>18}{'--- UDP first packets ---':>34}")
    header = (f"{'case':<24}{'conn/s':>10}{'p50 us':>9}{'p90 us':>9}{'p99 us':>9}{'fail':>6}"
              f"{'p50 us':>9}{'p99 us':>9}{'UDP sent/s':>12}{'delivered/s':>12}{'decided/s':>10}")
    print(header)
    print("-" * len(header))
    for name, label in cases:
        failures = sum(r["loadgen"]["failures"] for r in records.get((name, "tcp"), []))
        print(f"{label:<24}{fmt(med(name, 'tcp', 'conn_per_sec')):>10}{fmt(med(name, 'tcp', 'p50_us'), 1):>9}"
              f"{fmt(med(name, 'tcp', 'p90_us'), 1):>9}{fmt(med(name, 'tcp', 'p99_us'), 1):>9}{failures:>6}"
              f"{fmt(med(name, 'paced', 'p50_us'), 1):>9}{fmt(med(name, 'paced', 'p99_us'), 1):>9}"
              f"{fmt(med(name, 'udp', 'sent_per_sec')):>12}{fmt(med(name, 'udp', 'server_per_sec')):>12}"
              f"{fmt(med(name, 'udp', 'decided_per_sec')):>10}")
    print()
    print("UDP: every datagram is the first packet of a new 5-tuple, sent open-loop as fast as the senders can.")
    print("delivered/s: counted by the server; decided/s: taken by the node's queues and answered (nfnetlink_queue id")
    print("sequence), or delivered/s without a queue. A full queue drops (C reader) or, with Tollgate's fail-open,")
    print("passes packets undecided: those are delivered but not decided.")
    print()

    def verdict(met):
        return "met" if met else "NOT met"

    def rounds_text(key, digits):
        values = summary["per_round"][key]
        return "" if len(values) < 2 else " [rounds: " + ", ".join(fmt(v, digits) for v in values) + "]"

    targets = summary["targets"]
    print(f"Tollgate / C reader, conn/s:  {fmt(summary['conn_ratio_vs_floor'], 2)}x  "
          f"(target >= {TARGET_VS_READER}x: {verdict(targets['conn_rate_vs_floor_ge_1.0'])})"
          + rounds_text("conn_ratio_vs_floor", 2))
    print(f"Tollgate / no queue, conn/s:  {fmt(summary['conn_ratio_vs_no_queue'], 2)}x  "
          f"(target >= {TARGET_VS_NO_QUEUE}x: {verdict(targets['conn_rate_vs_no_queue_ge_0.8'])})"
          + rounds_text("conn_ratio_vs_no_queue", 2))
    print(f"Tollgate p50 - no-queue p50, saturated: {fmt(summary['added_p50_us'], 1)} us  "
          f"(target <= {TARGET_ADDED_P50_US:.0f} us: {verdict(targets['added_p50_le_30us'])})"
          + rounds_text("added_p50_us", 1))
    print(f"Tollgate p50 - no-queue p50, paced:     {fmt(summary['added_p50_us_paced'], 1)} us  "
          f"({verdict(targets['added_p50_paced_le_30us'])})" + rounds_text("added_p50_us_paced", 1))
    print(f"C reader p50 - no-queue p50: saturated {fmt(summary['floor_added_p50_us'], 1)} us, paced "
          f"{fmt(summary['floor_added_p50_us_paced'], 1)} us")
    for name, label in cases[3:]:
        print(f"{label} / C reader, conn/s: {fmt(summary[name + '_conn_ratio_vs_floor'], 2)}x"
              + rounds_text(name + "_conn_ratio_vs_floor", 2)
              + f"; / no queue: {fmt(summary[name + '_conn_ratio_vs_no_queue'], 2)}x"
              + rounds_text(name + "_conn_ratio_vs_no_queue", 2)
              + f"; / Tollgate: {fmt(summary[name + '_conn_ratio_vs_tollgate'], 2)}x")
        print(f"{label} p50 - no-queue p50: saturated {fmt(summary[name + '_added_p50_us'], 1)} us"
              + rounds_text(name + "_added_p50_us", 1) + f", paced {fmt(summary[name + '_added_p50_us_paced'], 1)} us"
              + rounds_text(name + "_added_p50_us_paced", 1)
              + f"; UDP decided / no queue {fmt(summary[name + '_udp_decided_ratio_vs_no_queue'], 2)}x")
    print(f"Tollgate / C reader, UDP first packets decided/s: {fmt(summary['udp_decided_ratio_vs_floor'], 2)}x; "
          f"Tollgate / no queue: {fmt(summary['udp_decided_ratio_vs_no_queue'], 2)}x")
    print()
    for n in rounds:
        for proto in ("tcp", "paced", "udp"):
            for name, label in cases[1:]:
                record = next((r for r in records.get((name, proto), []) if r["round"] == n), None)
                if not record:
                    continue
                print(f"round {n}, {label}, {proto.upper()} window: {record['queued']:,} packets queued, "
                      f"{record['queue_dropped']:,} queue-full drops, {record['queue_user_dropped']:,} socket-buffer "
                      f"drops (/proc/net/netfilter/nfnetlink_queue, queues {record['queues']})")
                if record.get("kcache_accepted") is not None:
                    load = record["loadgen"]
                    made = load.get("connections", load.get("sent", 0))
                    drawn = load.get("keys_drawn")
                    distinct = None if drawn is None else (drawn if load.get("flows", 0) < 0 else min(drawn, load["flows"]))
                    between = record.get("queued_between_snapshots")
                    if between is None:  # a record from before that field: the window's queue count
                        between = record["queued"]
                    print(f"  kernel allow cache: {record['kcache_accepted']:,} accepted by the set's rule and "
                          f"{between:,} queued between the snapshots: hit ratio "
                          f"{record['kcache_accepted'] / max(record['kcache_accepted'] + between, 1):.3f} "
                          f"({made:,} made in loadgen's window), set entries "
                          f"{record['kcache_entries_before']} -> {record['kcache_entries_after']}"
                          + (f"; {distinct:,} distinct keys drawn by the load" if distinct is not None else ""))
                m = record["tollgate"]
                if not m:
                    continue
                undecided = record["server_count"] - record["queued"] - (record.get("kcache_accepted") or 0) \
                    if proto == "udp" else None
                print(f"  Tollgate /metrics: {m['packets']:,.0f} packets, cache hit ratio {fmt(m['cache_hit_ratio'], 3)} "
                      f"({m['cache_hits']:,.0f} hits, {m['cache_misses']:,.0f} misses), queue drops "
                      f"{m['queue_dropped']:,.0f}, user drops {m['queue_user_dropped']:,.0f}, ENOBUFS "
                      f"{m['receive_buffer_overflows']:,.0f}, verdict send errors {m['verdict_send_errors']:,.0f}"
                      + (f"; about {max(undecided, 0):,} datagrams passed undecided (fail-open)"
                         if undecided is not None else ""))
                print(f"  verdict latency (batch arrival to verdicts sent): mean "
                      f"{fmt(m['verdict_latency_mean_us'], 1)} us, p50 ~{fmt(m['verdict_latency_p50_us'], 1)} us, "
                      f"p99 ~{fmt(m['verdict_latency_p99_us'], 1)} us; decision (arrival to last verdict decided) "
                      f"mean {fmt(m.get('decision_latency_mean_us'), 2)} us"
                      + (f"; allow-set adds sent {m['allow_set_adds']:,.0f}, error replies {m['allow_set_add_errors']:,.0f}"
                         if m.get("allow_set_adds") else ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    c = commands.add_parser("case")
    c.add_argument("--name", required=True)
    c.add_argument("--proto", choices=["tcp", "paced", "udp"], required=True)
    c.add_argument("--round", type=int, default=1)
    c.add_argument("--loadgen", required=True)
    c.add_argument("--samples", required=True)
    c.add_argument("--queue-samples", required=True)
    c.add_argument("--before", required=True)
    c.add_argument("--after", required=True)
    q = commands.add_parser("sample-queues")
    q.add_argument("file")
    t = commands.add_parser("table")
    t.add_argument("records")
    t.add_argument("meta")
    t.add_argument("--output", choices=["text", "json"], default="text")
    arguments = parser.parse_args()
    if arguments.command == "case":
        case(arguments)
    elif arguments.command == "sample-queues":
        sample_queues(arguments.file)
    else:
        table(arguments)


if __name__ == "__main__":
    sys.exit(main())
