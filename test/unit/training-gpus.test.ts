import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { GpuMonitor, parseComputeApps, parseGpuCsv, suggestFreeGpus, type GpuMonitorEvent } from '../../src/core/training/gpus';
import { RunManager } from '../../src/core/training/run-manager';

const ws = mkdtempSync(join(tmpdir(), 'grpo-gpus-'));
after(() => rmSync(ws, { recursive: true, force: true }));

// As nvidia-smi 550 prints them (csv,noheader,nounits), including MIG / older boards' placeholders.
const GPU_CSV = [
  '0, GPU-5a3c1d2e-0000-1111-2222-333344445555, NVIDIA H100 80GB HBM3, 97, 61234, 81559, 64, 512.33',
  '1, GPU-6b4d2e3f-0000-1111-2222-333344445555, NVIDIA H100 80GB HBM3, 0, 1, 81559, 31, 69.80',
  '2, GPU-7c5e3f40-0000-1111-2222-333344445555, NVIDIA H100 80GB HBM3, [Not Supported], 4, 81559, 30, [N/A]',
  '3, GPU-8d6f4051-0000-1111-2222-333344445555, Tesla T4, 3, 5000, 15360, [N/A], 27.10',
  '',
].join('\n');
const APPS_CSV = ['4242, GPU-5a3c1d2e-0000-1111-2222-333344445555, 61200', '4243, GPU-7c5e3f40-0000-1111-2222-333344445555, [N/A]', ''].join('\n');

test('nvidia-smi GPU CSV with [N/A] and [Not Supported]', () => {
  const gpus = parseGpuCsv(GPU_CSV);
  assert.equal(gpus.length, 4);
  assert.deepEqual(gpus[0], {
    index: 0, uuid: 'GPU-5a3c1d2e-0000-1111-2222-333344445555', name: 'NVIDIA H100 80GB HBM3',
    utilization: 97, memoryUsed: 61234, memoryTotal: 81559, temperature: 64, power: 512.33,
  });
  assert.deepEqual(gpus[2], { index: 2, uuid: 'GPU-7c5e3f40-0000-1111-2222-333344445555', name: 'NVIDIA H100 80GB HBM3', memoryUsed: 4, memoryTotal: 81559, temperature: 30 });
  assert.equal(gpus[3]!.temperature, undefined);
  assert.equal(gpus[3]!.power, 27.1);
  const apps = parseComputeApps(APPS_CSV, gpus);
  assert.deepEqual(apps, [
    { pid: 4242, gpuUuid: 'GPU-5a3c1d2e-0000-1111-2222-333344445555', gpuIndex: 0, usedMemory: 61200 },
    { pid: 4243, gpuUuid: 'GPU-7c5e3f40-0000-1111-2222-333344445555', gpuIndex: 2 },
  ]);
  assert.deepEqual(parseComputeApps('No running processes found\n'), []);
});

test('free-GPU suggestion skips busy GPUs and GPUs holding compute processes', () => {
  const gpus = parseGpuCsv(GPU_CSV);
  const apps = parseComputeApps(APPS_CSV, gpus);
  // 0: busy; 2: has a compute process; 3: 33% memory used. Only 1 is free.
  assert.deepEqual(suggestFreeGpus(gpus, apps, 2), [1]);
  assert.deepEqual(suggestFreeGpus(gpus, apps, 2, { maxMemoryFraction: 0.5 }), [1, 3]);
  assert.deepEqual(suggestFreeGpus(gpus, [], 4), [1, 2], "least memory used first");
});

test('a machine without nvidia-smi is reported once', async () => {
  const events: GpuMonitorEvent[] = [];
  const m = new GpuMonitor({ command: join(ws, 'no-such-nvidia-smi'), onEvent: (e) => events.push(e) });
  assert.equal(await m.poll(), undefined);
  assert.equal(await m.poll(), undefined);
  m.start();
  await new Promise((r) => setTimeout(r, 50));
  m.stop();
  assert.deepEqual(events, [{ kind: 'unavailable', message: 'nvidia-smi not found: no NVIDIA GPU information on this machine' }]);
});

test('poller maps GPU processes to runs by process tree (fake nvidia-smi script: no GPU here)', async () => {
  const runs = new RunManager({ workspace: ws, pollMs: 100 });
  const run = await runs.launch({ name: 'gpu-holder', command: ['python3', '-c', 'import subprocess, sys, time; c = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"]); print(c.pid, flush=True); time.sleep(600)'] });
  try {
    let workerPid = 0;
    for (let i = 0; i < 200 && !workerPid; i++) {
      workerPid = Number(readFileSync(join(run.dir, 'stdout.log'), 'utf8').trim()) || 0;
      if (!workerPid) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(workerPid > 0);
    const fake = join(ws, 'nvidia-smi');
    // Prints the GPU table, or the compute apps: the run's worker on GPU 0 and a stranger (pid 1) on GPU 2.
    writeFileSync(
      fake,
      `#!/bin/sh\ncase "$1" in\n--query-gpu=*) cat <<'EOF'\n${GPU_CSV}EOF\n;;\n*) echo "${workerPid}, GPU-5a3c1d2e-0000-1111-2222-333344445555, 61200"; echo "1, GPU-7c5e3f40-0000-1111-2222-333344445555, 300";;\nesac\n`,
    );
    chmodSync(fake, 0o755);
    const events: GpuMonitorEvent[] = [];
    const mon = new GpuMonitor({ command: fake, ownerOf: (pid) => runs.ownerOf(pid), onEvent: (e) => events.push(e) });
    const snap = await mon.poll();
    assert.ok(snap);
    assert.equal(snap.gpus.length, 4);
    assert.deepEqual(
      snap.processes.map((p) => [p.pid, p.gpuIndex, p.run]),
      [
        [workerPid, 0, run.id],
        [1, 2, undefined],
      ],
    );
    assert.equal(events.length, 1);
  } finally {
    const r = await runs.stop(run.id, { intGraceMs: 1000 });
    runs.dispose();
    assert.equal(r.ok, true);
  }
});
