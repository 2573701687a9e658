// Preloaded into the hactl process by bench/scale.mjs (`node --import ./bench/memory-probe.mjs`),
// so that hactl's own code carries no benchmark hook. Samples the main thread's V8 heap on a short
// timer (the figure the 300 MB target is about; the balancer's worker thread has a heap of its own)
// and, at exit, reads the kernel's exact peak resident set (VmHWM: the whole process, the balancer
// thread and native buffers included). Writes both to HACTL_BENCH_MEMORY_FILE.
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.env.HACTL_BENCH_MEMORY_FILE;
if (file) {
  const SAMPLE_EVERY_MS = 25;
  const peak = { heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0, rss: 0 };
  const sample = () => {
    const usage = process.memoryUsage();
    for (const key of Object.keys(peak)) peak[key] = Math.max(peak[key], usage[key]);
  };
  // unref: the probe must never keep hactl alive or change when it exits.
  setInterval(sample, SAMPLE_EVERY_MS).unref();
  process.on('exit', () => {
    sample();
    const status = readFileSync('/proc/self/status', 'utf8');
    const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    writeFileSync(file, JSON.stringify({ peakBytes: peak, vmHwmBytes: kib('VmHWM') * 1024, sampleEveryMs: SAMPLE_EVERY_MS }));
  });
}
