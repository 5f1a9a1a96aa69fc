-- One bench scenario for wrk: method, body and headers come from the generated prelude
-- (bench/.cache/<scenario>.lua starts with `local spec = {...}`); `done` prints one JSON
-- line the bench parses (latencies in microseconds).

wrk.method = spec.method
wrk.body = spec.body
for name, value in pairs(spec.headers) do
  wrk.headers[name] = value
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK-JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p95":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean))
end
