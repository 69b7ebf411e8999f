import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchJudgeThroughput, benchTable } from '../../bench/judge';

// A smoke run of the benchmark (not a timed test: the machine is shared): it measures through
// the real client against its own loopback server and can never beat the ideal.
test('judge throughput bench reports each level against concurrency ÷ latency', async () => {
  const rows = await benchJudgeThroughput({ levels: [1, 4], latencyMs: 40, rounds: 3 });
  assert.deepEqual(rows.map((r) => [r.concurrency, r.requests, r.ideal]), [[1, 3, 25], [4, 12, 100]]);
  for (const r of rows) {
    assert.ok(r.ratio > 0 && r.ratio <= 1.02, `ratio ${r.ratio}`);
    assert.ok(Math.abs(r.throughput - r.requests / r.seconds) < 1e-9);
  }
  assert.match(benchTable(rows), /^\| concurrency \|[\s\S]*\| 4 \| 12 \|/);
});
